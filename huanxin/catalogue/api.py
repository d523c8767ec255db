from ninja import Router

router = Router(tags=["产品目录与价格备案"])

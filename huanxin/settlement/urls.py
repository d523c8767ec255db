from django.urls import path

from huanxin.settlement import views

app_name = "settlement"

urlpatterns = [
    path("merchant/statement/", views.statement, name="statement"),
    path("finance/", views.board, name="board"),
    path("finance/periods/", views.periods, name="periods"),
    path("finance/periods/<int:pk>/reconciliation/", views.reconciliation, name="reconciliation"),
    path("finance/payables/", views.payables, name="payables"),
    path("finance/batches/", views.batches, name="batches"),
    path("finance/batches/<str:number>/", views.batch, name="batch"),
    path("finance/batches/<str:number>/approve/", views.approve, name="approve"),
    path("finance/batches/<str:number>/results/", views.import_results, name="import_results"),
    path("finance/batches/<str:number>/file.<str:file_format>", views.download, name="download"),
]

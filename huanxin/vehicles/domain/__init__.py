"""Pure vehicle rules (no Django): mandatory scrapping under 机动车强制报废标准规定."""

from huanxin.core.domain.identifiers import age_on as full_years_between
from huanxin.vehicles.domain.scrapping import VEHICLE_TYPES, ScrapInputError, ScrapLimits, check_scrapping

__all__ = ["VEHICLE_TYPES", "ScrapInputError", "ScrapLimits", "check_scrapping", "full_years_between"]

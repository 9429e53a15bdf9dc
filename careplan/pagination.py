"""Paging for list endpoints: the page's items in the body, the totals in the X-Pagination header."""
from sqlalchemy import Select, func, select

from careplan.extensions import db


def page_of(statement: Select, pagination_parameters) -> list:
    pagination_parameters.item_count = db.session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery()))
    size = pagination_parameters.page_size
    offset = (pagination_parameters.page - 1) * size
    if offset >= pagination_parameters.item_count:
        # Past the last page (also for page numbers no database integer can hold).
        return []
    return list(db.session.scalars(statement.limit(size).offset(offset)))

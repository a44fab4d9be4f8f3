"""The one pagination style of the API: ``?page=N&pageSize=M``."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100

"""
Database helpers that work with any DB-API 2.0 connection (upstream ``lava.lib.db``).
"""

from typing import Any, Iterator

__all__ = ['begin_transaction', 'query_to_dict']


def begin_transaction(conn: Any, cursor: Any = None) -> None:
    """
    Begin a transaction on a DB-API 2.0 connection, whatever the driver.

    DB-API 2.0 has no common way to begin a transaction, so try in turn:
    ``conn.begin()`` (PyMySQL, cx_Oracle), then ``conn.autocommit = False``
    (pg8000), then executing ``BEGIN`` (sqlite3).

    :param conn:    An open DB-API connection.
    :param cursor:  A cursor to execute ``BEGIN`` with; one is created when needed.
    """

    try:
        conn.begin()
    except AttributeError:
        try:
            conn.autocommit = False
        except AttributeError:
            if cursor is None:
                cursor = conn.cursor()
            cursor.execute('BEGIN')


def query_to_dict(cursor: Any, *args: Any, **kwargs: Any) -> Iterator[dict]:
    """
    Run a query and yield each row as a dict keyed by column name.

    :param cursor:  A DB-API cursor.
    :param args:    Passed to ``cursor.execute()``.
    :param kwargs:  Passed to ``cursor.execute()``.
    """

    cursor.execute(*args, **kwargs)
    if cursor.description is None:
        return
    # Some drivers (older pg8000) give column names as bytes.
    names = [d[0].decode('utf-8') if isinstance(d[0], bytes) else d[0] for d in cursor.description]
    while True:
        row = cursor.fetchone()
        if row is None:
            return
        yield dict(zip(names, row))

"""
Lava for TypeScript: the Python package for exe and pkg jobs.

A small, dependency-free subset of upstream Lava's ``lava`` package:

- ``lava.connection.get_pysql_connection(conn_id, ...)``: a DB-API 2.0 connection;
- ``lava.connection.get_sqlalchemy_engine(conn_id, ...)``: an SQLAlchemy engine (needs SQLAlchemy);
- ``lava.connection.get_generic_connection(conn_id, ...)``: a generic connection's attributes;
- ``lava.lib.db.begin_transaction(conn, cursor=None)`` and ``lava.lib.db.query_to_dict(cursor, ...)``.

A job reaches only the connections it declares in its ``connections`` parameter: the worker writes
their resolved specs to a private (0600) file for the run and names it in LAVA_CONNECTIONS_FILE.
See docs/python.md.
"""

__version__ = '0.1.0'

"""
Connections for jobs (upstream ``lava.connection``), through the connections a job declares.

    from lava.connection import get_pysql_connection

    conn = get_pysql_connection(os.environ['LAVA_CONNID_DB'])

See docs/python.md.
"""

from .core import (
    CONNECTIONS_FILE_VAR,
    LavaConnectionError,
    get_connection_spec,
    get_generic_connection,
    get_pysql_connection,
    get_sqlalchemy_engine,
)

__all__ = [
    'CONNECTIONS_FILE_VAR',
    'LavaConnectionError',
    'get_connection_spec',
    'get_generic_connection',
    'get_pysql_connection',
    'get_sqlalchemy_engine',
]

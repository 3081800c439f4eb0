"""
How the ``lava`` package reaches connections: the worker resolves the connections a job declares in
its ``connections`` parameter (secrets included) and writes them to a private (0600) JSON file in
the run's private connector directory; LAVA_CONNECTIONS_FILE names it. Only declared connections
are in the file, and it is removed with the run's scratch directory. Nothing secret is in the
environment.

Drivers are upstream's: pg8000 for PostgreSQL and Redshift, PyMySQL for MySQL and MariaDB, the
standard library's sqlite3 for SQLite. They are imported only when used.
"""

import inspect
import json
import os
import ssl as _ssl
import stat
from typing import Any, Optional

__all__ = [
    'CONNECTIONS_FILE_VAR',
    'LavaConnectionError',
    'get_connection_spec',
    'get_generic_connection',
    'get_pysql_connection',
    'get_sqlalchemy_engine',
]

CONNECTIONS_FILE_VAR = 'LAVA_CONNECTIONS_FILE'

# Largest connections file read (a job declares a handful of connections).
_MAX_FILE_SIZE = 1024 * 1024

# SQLAlchemy dialect+driver for each lava dialect (upstream's choice of drivers).
_SQLALCHEMY_URLS = {
    'postgres': 'postgresql+pg8000://',
    'redshift': 'postgresql+pg8000://',
    'mysql': 'mysql+pymysql://',
    'sqlite3': 'sqlite://',
}


class LavaConnectionError(Exception):
    """A connection cannot be used. The message never contains a secret."""


def _read_file() -> dict:
    path = os.environ.get(CONNECTIONS_FILE_VAR)
    if not path:
        raise LavaConnectionError(
            f'{CONNECTIONS_FILE_VAR} is not set: lava connections are available to exe and pkg jobs'
            ' that declare them in their "connections" parameter (LABEL: conn_id)'
        )
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
    except OSError as e:
        raise LavaConnectionError(
            f'cannot read the connections file {path}: {e.strerror} (it exists only while the job runs)'
        ) from None
    with os.fdopen(fd, 'r', encoding='utf-8') as fp:
        st = os.fstat(fp.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o077:
            raise LavaConnectionError(f'the connections file {path} must be a private (0600) regular file')
        if st.st_size > _MAX_FILE_SIZE:
            raise LavaConnectionError(f'the connections file {path} is larger than {_MAX_FILE_SIZE} bytes')
        try:
            data = json.load(fp)
        except ValueError as e:
            raise LavaConnectionError(f'the connections file {path} is not valid JSON: {e}') from None
    if not isinstance(data, dict) or data.get('version') != 1 or not isinstance(data.get('connections'), dict):
        raise LavaConnectionError(f'the connections file {path} is not a version 1 lava connections file')
    return data


def _entry(conn_id: str, realm: Optional[str]) -> dict:
    if not isinstance(conn_id, str) or not conn_id:
        raise LavaConnectionError('a connection id is required (a non-empty string)')
    data = _read_file()
    if realm is not None and realm != data.get('realm'):
        raise LavaConnectionError(
            f'connection "{conn_id}" of realm "{realm}" is not available: this job runs in realm "{data.get("realm")}"'
        )
    entry = data['connections'].get(conn_id)
    if not isinstance(entry, dict):
        declared = ', '.join(sorted(data['connections'])) or '(none)'
        raise LavaConnectionError(
            f'connection "{conn_id}" is not declared by this job: add it to the job\'s "connections"'
            f' parameter (LABEL: {conn_id}); declared database and generic connections: {declared}'
        )
    return entry


def get_connection_spec(conn_id: str, realm: Optional[str] = None) -> dict:
    """
    The resolved spec of a declared connection, without its password.

    :param conn_id:     Connection ID.
    :param realm:       Realm; default the job's (another realm is refused).
    """

    entry = dict(_entry(conn_id, realm))
    entry.pop('password', None)
    return entry


def get_generic_connection(conn_id: str, realm: Optional[str] = None) -> dict:
    """
    The attributes of a declared generic connection, with secret attributes filled in.

    :param conn_id:     Connection ID.
    :param realm:       Realm; default the job's (another realm is refused).
    """

    entry = _entry(conn_id, realm)
    if entry.get('dialect') != 'generic':
        raise LavaConnectionError(f'connection "{conn_id}" is of type {entry.get("type")}, not generic')
    return dict(entry.get('attributes') or {})


def _import_driver(module: str, what: str, apt: str):
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(
            f'{what} connections need the Python package "{module}", which is not installed:'
            f' pip install {module} (Debian: apt-get install {apt})'
        ) from None


def _params(func, wanted: dict) -> dict:
    """Keep only the keyword arguments ``func`` accepts (drivers differ between versions)."""

    try:
        accepted = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return wanted
    return {k: v for k, v in wanted.items() if k in accepted}


def _connect_postgres(entry: dict, autocommit: bool, application_name: Optional[str]):
    pg8000 = _import_driver('pg8000', 'PostgreSQL and Redshift', 'python3-pg8000')
    params = {
        'user': entry.get('user'),
        'password': entry.get('password'),
        'host': entry.get('host'),
        'port': int(entry.get('port') or 5432),
        'database': entry.get('database'),
    }
    use_ssl = bool(entry.get('ssl'))
    accepted = _params(pg8000.connect, {'ssl_context': None, 'ssl': None, 'application_name': None})
    if use_ssl:
        # As upstream: an encrypted connection, without certificate checks.
        context = _ssl.SSLContext(_ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = _ssl.CERT_NONE
        if 'ssl_context' in accepted:
            params['ssl_context'] = context
        else:
            params['ssl'] = True
    if application_name and 'application_name' in accepted:
        params['application_name'] = application_name
    conn = pg8000.connect(**params)
    if application_name and 'application_name' not in accepted:
        # Older pg8000 releases have no application_name argument.
        cursor = conn.cursor()
        cursor.execute('SELECT set_config(%s, %s, false)', ('application_name', application_name))
        conn.commit()
    if autocommit:
        conn.autocommit = True
    return conn


def _connect_mysql(entry: dict, autocommit: bool, application_name: Optional[str]):
    pymysql = _import_driver('pymysql', 'MySQL and MariaDB', 'python3-pymysql')
    params = {
        'user': entry.get('user'),
        'password': entry.get('password'),
        'host': entry.get('host'),
        'port': int(entry.get('port') or 3306),
        'database': entry.get('database'),
        'autocommit': autocommit,
    }
    if application_name:
        params['program_name'] = application_name
    if entry.get('ssl'):
        params['ssl'] = {'ca': entry.get('ca_cert'), 'check_hostname': False}
    return pymysql.connect(**params)


def _connect_sqlite(entry: dict, autocommit: bool, application_name: Optional[str]):
    import sqlite3

    conn = sqlite3.connect(entry['host'])
    if autocommit:
        conn.isolation_level = None
    return conn


_CONNECTORS = {
    'postgres': _connect_postgres,
    'redshift': _connect_postgres,
    'mysql': _connect_mysql,
    'sqlite3': _connect_sqlite,
}


def get_pysql_connection(
    conn_id: str,
    realm: Optional[str] = None,
    autocommit: bool = False,
    aws_session: Any = None,
    application_name: Optional[str] = None,
):
    """
    A DB-API 2.0 connection to a database connection the job declares.

    :param conn_id:         Connection ID (``os.environ['LAVA_CONNID_<LABEL>']``).
    :param realm:           Realm; default the job's (another realm is refused).
    :param autocommit:      Turn autocommit on (not every driver has it).
    :param aws_session:     Accepted for upstream compatibility; not used.
    :param application_name: The session's application name; default the connection's
                            (CONN_APP_NAME of the worker).
    :return:                A live connection: pg8000, PyMySQL or sqlite3.
    """

    entry = _entry(conn_id, realm)
    dialect = entry.get('dialect')
    connect = _CONNECTORS.get(dialect)
    if connect is None:
        raise LavaConnectionError(
            f'connection "{conn_id}" is of type {entry.get("type")}: the lava Python package connects to'
            ' postgres, redshift, mysql and sqlite3 connections only'
        )
    name = application_name or entry.get('application_name')
    password = entry.get('password')
    try:
        return connect(entry, autocommit, name)
    except (ImportError, LavaConnectionError):
        raise
    except Exception as e:
        message = str(e)
        if password:
            message = message.replace(str(password), '***')
        raise LavaConnectionError(
            f'cannot connect to {entry.get("type")} connection "{conn_id}"'
            f' ({entry.get("host")}:{entry.get("port", "")} as {entry.get("user", "-")}): {message}'
        ) from None


def get_sqlalchemy_engine(
    conn_id: str,
    realm: Optional[str] = None,
    aws_session: Any = None,
    application_name: Optional[str] = None,
    **kwargs: Any,
):
    """
    An SQLAlchemy engine whose connections are ``get_pysql_connection(conn_id, ...)``.

    :param conn_id:         Connection ID.
    :param realm:           Realm; default the job's.
    :param aws_session:     Accepted for upstream compatibility; not used.
    :param application_name: The session's application name.
    :param kwargs:          Passed to ``sqlalchemy.create_engine`` (``module`` is not allowed).
    """

    if 'module' in kwargs:
        raise ValueError('get_sqlalchemy_engine: Module selection not permitted')
    try:
        import sqlalchemy
    except ImportError:
        raise ImportError(
            'get_sqlalchemy_engine needs SQLAlchemy, which is not installed: pip install sqlalchemy'
            ' (Debian: apt-get install python3-sqlalchemy); get_pysql_connection works without it'
        ) from None
    entry = _entry(conn_id, realm)
    url = _SQLALCHEMY_URLS.get(entry.get('dialect'))
    if url is None:
        raise LavaConnectionError(
            f'connection "{conn_id}" is of type {entry.get("type")}: SQLAlchemy engines are available for'
            ' postgres, redshift, mysql and sqlite3 connections only'
        )

    def creator():
        return get_pysql_connection(conn_id, realm, application_name=application_name)

    return sqlalchemy.create_engine(url, creator=creator, **kwargs)

#!/bin/sh
# An exe payload using connections: $LAVA_CONN_DB runs psql, $LAVA_CONN_API prints attributes.
set -e
echo "regions: $($LAVA_CONN_DB -At -c 'select count(distinct region) from docs_sales')"
echo "api: $($LAVA_CONN_API url) (connection $LAVA_CONNID_API)"
token=$($LAVA_CONN_API token)
echo "token: ${#token} characters"

#!/bin/sh
# An exe payload. Arguments: the rest of the payload line, then parameters.args.
echo "$GREETING $* (job $LAVA_JOB_ID, payload $(basename "$LAVA_S3_PAYLOAD"))"

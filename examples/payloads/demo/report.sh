#!/bin/sh
# An exe payload: Lava passes the job's arguments and LAVA_* variables.
echo "report $* for job $LAVA_JOB_ID run $LAVA_RUN_ID"
echo "owner: $REPORT_OWNER; scratch: $(pwd); tmp: $TMPDIR"

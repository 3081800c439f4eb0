#!/bin/sh
# A pkg entry point: runs from the unpacked package directory.
echo "hello $2 from $(basename "$(pwd)") with files: $(ls lib)"

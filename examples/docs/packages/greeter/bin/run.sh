#!/bin/sh
# A pkg entry point. The working directory is the unpacked package.
echo "$1 $2: $(cat data/greeting.txt)"

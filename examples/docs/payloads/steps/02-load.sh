#!/bin/sh
echo "load $1"

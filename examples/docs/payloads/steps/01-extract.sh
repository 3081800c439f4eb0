#!/bin/sh
echo "extract $1"

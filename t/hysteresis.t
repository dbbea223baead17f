#!/bin/sh
exec "$(dirname "$0")/unit/test_hysteresis"

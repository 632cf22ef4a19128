greet.sh#!/bin/bash
# Greets someone.
#
# Parameters:
#   (1) name (string, required): who
#   --loud (boolean, optional): shout
greet() { echo "hi $1"; }

#!/usr/bin/env bash
# The dockerd scenario of 50-dockerd-scenario.sh with the plugin started --opt lcow.svm=uml in global mode (one shared
# User-mode Linux guest), including the byte-identical commit check against lcow.svm=host. See 50 for what is run.
exec env LCOW_E2E_SVM=uml-global bash "$(dirname "${BASH_SOURCE[0]}")/50-dockerd-scenario.sh" "$@"

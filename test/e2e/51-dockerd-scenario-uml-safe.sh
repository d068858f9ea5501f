#!/usr/bin/env bash
# The dockerd scenario of 50-dockerd-scenario.sh with the plugin started --opt lcow.svm=uml in safe mode (one User-mode
# Linux guest per layer id), including the byte-identical commit check against lcow.svm=host. See 50 for what is run.
exec env LCOW_E2E_SVM=uml-safe bash "$(dirname "${BASH_SOURCE[0]}")/50-dockerd-scenario.sh" "$@"

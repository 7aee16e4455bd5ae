// The uiscsi tape driver (SSC-3): uiscsi::tape::Drive over an iSCSI session. See tape/drive.hpp.
#pragma once

#include "uiscsi/tape/drive.hpp"
#include "uiscsi/tape/errors.hpp"
#include "uiscsi/tape/transport.hpp"

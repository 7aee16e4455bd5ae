// The uiscsi tape driver: uiscsi::tape::Drive (SSC-3, tape/drive.hpp) and uiscsi::tape::Changer
// (SMC-3 media changer, tape/changer.hpp) over an iSCSI session.
#pragma once

#include "uiscsi/tape/changer.hpp"
#include "uiscsi/tape/drive.hpp"
#include "uiscsi/tape/errors.hpp"
#include "uiscsi/tape/transport.hpp"

/* What the balancers show (server-status and metrics sections) and SetHandler
 * balancer-manager, registered by startup.c. */
#ifndef PT_BALANCER_MANAGER_H
#define PT_BALANCER_MANAGER_H

#include "handler.h"

extern const pt_status_ext_t pt_balancer_status_ext;
extern const pt_handler_t pt_balancer_manager_handler;

#endif

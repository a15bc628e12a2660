/* The access log: LogFormat, CustomLog and TransferLog (registered with conf by loader.c),
 * and the lines a finished request leaves in its virtual host's CustomLogs. It sits above
 * the request: the protocol drivers call pt_log_access once a request is over; the request
 * core never calls it. */
#ifndef PT_ACCESSLOG_H
#define PT_ACCESSLOG_H

struct pt_request;

/* Writes the access log lines for a finished request to its vhost's CustomLogs. */
void pt_log_access(const struct pt_request *r);

/* LogFormat, CustomLog, TransferLog: conf's extension (loader.c). */
extern const struct pt_conf_ext pt_accesslog_conf;

#endif

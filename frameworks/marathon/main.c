/*
 * marathon: Marathon (DESIGN.md section 2): the REST API on --http_port (8080), the framework
 * subscribed to --master, its state under --work_dir. Flags keep Marathon's names and units
 * (milliseconds where Marathon takes milliseconds: task_launch_timeout, decline_offer_duration,
 * min_revive_offers_interval, http_event_callback_slow_consumer_timeout); each may also come from
 * MARATHON_<FLAG>.
 */
#include <stdio.h>
#include <string.h>

#include "actor/daemon.h"
#include "actor/flags.h"
#include "actor/http.h"
#include "actor/log.h"
#include "frameworks/marathon/marathon.h"

int main(int argc, char **argv)
{
    char *master = NULL, *ip = NULL, *hostname = NULL, *framework_name = NULL, *work_dir = NULL;
    char *role = NULL, *user = NULL;
    uint64_t http_port = 0, actor_port = 0, task_launch_timeout = 0, decline = 0;
    uint64_t port_min = 0, port_max = 0, min_revive = 0;
    double failover_timeout = 0;
    /* Event callbacks and alerts (subscriptions.c, alerts.c). */
    char *event_subscriber = NULL, *http_endpoints = NULL;
    char *alert_smtp = NULL, *alert_to = NULL, *alert_from = NULL;
    uint64_t callback_timeout = 0, callback_queue = 0, callback_failures = 0;
    uint64_t alert_interval = 0, alert_per_minute = 0;
    flags_flag_t table[] = {
        FLAGS_STRING("master", &master, NULL, "The Mesos master: HOST:PORT (or its PID)"),
        FLAGS_STRING("ip", &ip, "127.0.0.1", "IP address to listen on"),
        FLAGS_UINT("http_port", &http_port, "8080", "Port of the REST API"),
        FLAGS_UINT("actor_port", &actor_port, NULL,
                   "Port of actor messages (default: --http_port + 10000)"),
        FLAGS_STRING("hostname", &hostname, NULL, "Advertised hostname (default: --ip)"),
        FLAGS_STRING("framework_name", &framework_name, "marathon", "The framework's name"),
        FLAGS_DOUBLE("failover_timeout", &failover_timeout, "604800",
                     "Seconds the master keeps Marathon's tasks after Marathon goes away"),
        FLAGS_STRING("work_dir", &work_dir, NULL,
                     "Where Marathon keeps its state (default: in memory, lost at exit)"),
        FLAGS_STRING("mesos_role", &role, "*", "The role Marathon subscribes with"),
        FLAGS_STRING("mesos_user", &user, NULL, "Tasks' default user"),
        FLAGS_UINT("task_launch_timeout", &task_launch_timeout, "300000",
                   "Milliseconds a task may take to start before it is killed"),
        FLAGS_UINT("decline_offer_duration", &decline, "120000",
                   "Milliseconds an unused offer's resources stay away"),
        FLAGS_UINT("min_revive_offers_interval", &min_revive, "5000",
                   "Least milliseconds between two revives of offers (0: no limit)"),
        FLAGS_UINT("local_port_min", &port_min, "10000", "Lowest service port"),
        FLAGS_UINT("local_port_max", &port_max, "20000", "Highest service port"),
        FLAGS_STRING("event_subscriber", &event_subscriber, NULL,
                     "http_callback (accepted for Marathon 1.4: event callbacks are always on)"),
        FLAGS_STRING("http_endpoints", &http_endpoints, NULL,
                     "Callback URLs subscribed to events at start, comma-separated"),
        FLAGS_UINT("http_event_callback_slow_consumer_timeout", &callback_timeout, "10000",
                   "Milliseconds an event callback may take before it counts as failed"),
        FLAGS_UINT("http_event_callback_queue", &callback_queue, "1024",
                   "Events queued per callback subscriber (the oldest are dropped beyond)"),
        FLAGS_UINT("http_event_callback_max_failures", &callback_failures, "10",
                   "Failed deliveries in a row after which a callback subscriber is dropped"),
        FLAGS_STRING("alert_smtp", &alert_smtp, NULL,
                     "Mail alerts through this server: smtp://HOST:PORT (or smtps://)"),
        FLAGS_STRING("alert_to", &alert_to, NULL, "Alert recipients, comma-separated"),
        FLAGS_STRING("alert_from", &alert_from, NULL,
                     "Alert sender (default: marathon@<hostname>)"),
        FLAGS_UINT("alert_interval", &alert_interval, "300",
                   "Seconds between two alert mails about one app (the rest go in a digest)"),
        FLAGS_UINT("alert_max_per_minute", &alert_per_minute, "10",
                   "Alert mails per minute over all apps"),
        FLAGS_END,
    };
    int status = 1;
    if (!flags_parse_program(table, argc, argv, "MARATHON_", "marathon", &status))
        goto out;
    if (!flags_is_set(table, "actor_port"))
        actor_port = http_port + 10000;
    if (http_port == 0 || actor_port > 65535 || port_min > port_max || port_max > 65535) {
        fprintf(stderr, "--http_port must be in 1..55535 and local_port_min <= local_port_max\n");
        goto out;
    }
    if (actor_daemon_start(ip, NULL, (int)actor_port, ACTOR_TRANSPORT_NNG, false) != ACTOR_OK)
        goto out;
    marathon_options_t mo;
    marathon_options_init(&mo);
    mo.master = master;
    mo.hostname = hostname != NULL ? hostname : ip;
    mo.http_port = (uint16_t)http_port;
    mo.framework_name = framework_name;
    mo.failover_timeout = failover_timeout;
    mo.work_dir = work_dir;
    mo.mesos_role = role;
    mo.mesos_user = user;
    mo.task_launch_timeout = (double)task_launch_timeout / 1000;
    mo.decline_offer_duration = (double)decline / 1000;
    mo.min_revive_offers_interval = (double)min_revive / 1000;
    mo.local_port_min = (uint32_t)port_min;
    mo.local_port_max = (uint32_t)port_max;
    mo.event_subscriber = event_subscriber;
    mo.http_endpoints = http_endpoints;
    mo.http_event_callback_timeout = (double)callback_timeout / 1000;
    mo.http_event_callback_queue =
        callback_queue > UINT32_MAX ? UINT32_MAX : (uint32_t)callback_queue;
    mo.http_event_callback_max_failures =
        callback_failures > UINT32_MAX ? UINT32_MAX : (uint32_t)callback_failures;
    mo.alert_smtp = alert_smtp;
    mo.alert_to = alert_to;
    mo.alert_from = alert_from;
    mo.alert_interval = (double)alert_interval;
    mo.alert_max_per_minute =
        alert_per_minute > UINT32_MAX ? UINT32_MAX : (uint32_t)alert_per_minute;
    char err[512] = "";
    marathon_server_t *server = NULL;
    actor_err_t rc = marathon_start(&mo, &server, err, sizeof(err));
    if (rc == ACTOR_OK)
        rc = actor_http_listen(ip, (uint16_t)http_port, marathon_server_pid(server)->id, NULL);
    if (rc != ACTOR_OK) {
        LOG_ERROR("Failed to start Marathon: %s", err[0] ? err : actor_strerror(rc));
        marathon_stop(server);
        actor_runtime_stop();
        goto out;
    }
    LOG_INFO("Marathon serving http://%s:%llu/ (/v2/apps, /v2/tasks, /v2/events, ...)", ip,
             (unsigned long long)http_port);
    actor_daemon_wait();
    marathon_stop(server);
    actor_runtime_stop();
    status = 0;
out:
    flags_free(table);
    return status;
}

/* support.c: the in-process cluster of support.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actor/filter.h"
#include "actor/http.h"
#include "resources/resources.h"
#include "tests/master/support.h"

void cluster_runtime_start(void)
{
    actor_runtime_options_t opts;
    actor_runtime_options_init(&opts);
    opts.workers = 0;
    opts.port = -1;
    assert_int_equal(actor_runtime_start(&opts), ACTOR_OK);
    actor_clock_pause();
}

void cluster_runtime_stop(void)
{
    actor_runtime_stop();
    actor_clock_resume();
}

void cluster_master_options(master_options_t *opts, const char *work_dir)
{
    master_options_init(opts);
    opts->registry = work_dir != NULL ? "replicated_log" : "in_memory";
    opts->work_dir = work_dir;
    opts->hostname = "master.test";
}

master_pids_t cluster_master_start(const master_options_t *opts)
{
    /* As mesos-master does, hand over the /flags object and drop our reference at once: the
     * master must keep its own. */
    master_options_t with_flags = *opts;
    with_flags.flags = json_pack("{s:s}", "registry", opts->registry);
    master_pids_t pids;
    assert_int_equal(master_start(&with_flags, &pids), ACTOR_OK);
    json_decref(with_flags.flags);
    actor_settle();
    return pids;
}

cluster_t *cluster_new(void)
{
    cluster_runtime_start();
    cluster_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    master_options_t opts;
    cluster_master_options(&opts, NULL);
    c->master = cluster_master_start(&opts);
    c->sched = fake_spawn("sched");
    c->agent = fake_spawn("slave");
    return c;
}

void cluster_free(cluster_t *c)
{
    fake_stop(c->sched);
    fake_stop(c->agent);
    master_stop(&c->master);
    cluster_runtime_stop();
    actor_filter_install(NULL, NULL);
    free(c);
}

int cluster_setup(void **state)
{
    *state = cluster_new();
    return 0;
}

int cluster_teardown(void **state)
{
    cluster_free(*state);
    return 0;
}

void cluster_advance(double seconds)
{
    actor_clock_advance((int64_t)(seconds * (double)ACTOR_NS_PER_SEC));
    actor_settle();
}

/* ---- the fake actor ---- */

static void record(fake_t *fake, const actor_pid_t *from, const ProtobufCMessage *msg)
{
    if (fake->count == fake->cap) {
        fake->cap = fake->cap ? fake->cap * 2 : 16;
        fake->messages = realloc(fake->messages, fake->cap * sizeof(*fake->messages));
        assert_non_null(fake->messages);
    }
    fake_message_t *m = &fake->messages[fake->count++];
    snprintf(m->type, sizeof(m->type), "%s", msg->descriptor->name);
    m->len = protobuf_c_message_get_packed_size(msg);
    m->data = malloc(m->len + 1);
    protobuf_c_message_pack(msg, m->data);
    m->from = *from;
}

static void on_any(actor_t *self, void *state, const actor_pid_t *from, const ProtobufCMessage *msg)
{
    fake_t *fake = *(fake_t **)state;
    record(fake, from, msg);
    if (msg->descriptor == &mesos__internal__ping_agent_message__descriptor && !fake->mute_pings) {
        Mesos__Internal__PongAgentMessage pong = MESOS__INTERNAL__PONG_AGENT_MESSAGE__INIT;
        actor_send(self, from, &pong.base);
    }
    if (msg->descriptor == &mesos__internal__agent_registered_message__descriptor)
        snprintf(fake->agent_id, sizeof(fake->agent_id), "%s",
                 ((const Mesos__Internal__AgentRegisteredMessage *)msg)->agent_id->value);
    if (msg->descriptor == &mesos__scheduler__event__descriptor) {
        const Mesos__Scheduler__Event *ev = (const Mesos__Scheduler__Event *)msg;
        if (ev->type == MESOS__SCHEDULER__EVENT__TYPE__SUBSCRIBED)
            snprintf(fake->framework_id, sizeof(fake->framework_id), "%s",
                     ev->subscribed->framework_id->value);
    }
}

static void fake_init(actor_t *self, void *state, void *arg)
{
    (void)self;
    *(fake_t **)state = arg;
}

static const actor_handler_t fake_handlers[] = {
    {&mesos__scheduler__event__descriptor, on_any},
    {&mesos__internal__agent_registered_message__descriptor, on_any},
    {&mesos__internal__agent_reregistered_message__descriptor, on_any},
    {&mesos__internal__ping_agent_message__descriptor, on_any},
    {&mesos__internal__run_task_message__descriptor, on_any},
    {&mesos__internal__kill_task_message__descriptor, on_any},
    {&mesos__internal__shutdown_framework_message__descriptor, on_any},
    {&mesos__internal__shutdown_message__descriptor, on_any},
    {&mesos__internal__status_update_acknowledgement_message__descriptor, on_any},
    {&mesos__internal__framework_to_executor_message__descriptor, on_any},
};

static actor_ops_t fake_ops(const char *name)
{
    return (actor_ops_t){.name = name,
                         .state_size = sizeof(fake_t *),
                         .init = fake_init,
                         .handlers = fake_handlers,
                         .handler_count = sizeof(fake_handlers) / sizeof(fake_handlers[0])};
}

static actor_ops_t sched_ops, slave_ops;

fake_t *fake_spawn_as(const char *name, const char *id)
{
    sched_ops = fake_ops("sched");
    slave_ops = fake_ops("slave");
    fake_t *fake = calloc(1, sizeof(*fake));
    assert_non_null(fake);
    const actor_ops_t *ops = strcmp(name, "sched") == 0 ? &sched_ops : &slave_ops;
    assert_int_equal(actor_spawn(ops, id, fake, &fake->pid), ACTOR_OK);
    actor_settle();
    return fake;
}

fake_t *fake_spawn(const char *name)
{
    return fake_spawn_as(name, NULL);
}

void fake_clear(fake_t *fake)
{
    for (size_t i = 0; i < fake->count; i++)
        free(fake->messages[i].data);
    fake->count = 0;
}

void fake_stop(fake_t *fake)
{
    actor_terminate(&fake->pid);
    actor_settle();
    fake_clear(fake);
    free(fake->messages);
    free(fake);
}

typedef struct send_arg {
    actor_pid_t to;
    char type[128];
    uint8_t *data;
    size_t len;
} send_arg_t;

static void send_inside(actor_t *self, void *state, void *arg)
{
    (void)state;
    send_arg_t *s = arg;
    if (self != NULL)
        actor_send_packed(self, &s->to, s->type, s->data, s->len);
    free(s->data);
    free(s);
}

void fake_send(fake_t *fake, const actor_pid_t *to, const ProtobufCMessage *msg)
{
    send_arg_t *s = calloc(1, sizeof(*s));
    s->to = *to;
    snprintf(s->type, sizeof(s->type), "%s", msg->descriptor->name);
    s->len = protobuf_c_message_get_packed_size(msg);
    s->data = malloc(s->len + 1);
    protobuf_c_message_pack(msg, s->data);
    assert_int_equal(actor_dispatch(&fake->pid, send_inside, s), ACTOR_OK);
    actor_settle();
}

size_t fake_count(const fake_t *fake, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < fake->count; i++)
        n += strcmp(fake->messages[i].type, type) == 0;
    return n;
}

ProtobufCMessage *fake_get(const fake_t *fake, const ProtobufCMessageDescriptor *desc, long i)
{
    size_t n = fake_count(fake, desc->name);
    long want = i < 0 ? (long)n + i : i;
    if (want < 0 || (size_t)want >= n)
        return NULL;
    for (size_t k = 0; k < fake->count; k++) {
        if (strcmp(fake->messages[k].type, desc->name) != 0)
            continue;
        if (want-- == 0)
            return protobuf_c_message_unpack(desc, NULL, fake->messages[k].len,
                                             fake->messages[k].data);
    }
    return NULL;
}

/* ---- schedulers ---- */

static Mesos__Scheduler__Event *event_at(const fake_t *sched, size_t k)
{
    return mesos__scheduler__event__unpack(NULL, sched->messages[k].len, sched->messages[k].data);
}

size_t sched_events(const fake_t *sched, Mesos__Scheduler__Event__Type type)
{
    size_t n = 0;
    for (size_t k = 0; k < sched->count; k++) {
        if (strcmp(sched->messages[k].type, "mesos.scheduler.Event") != 0)
            continue;
        Mesos__Scheduler__Event *ev = event_at(sched, k);
        n += ev != NULL && ev->type == type;
        mesos__scheduler__event__free_unpacked(ev, NULL);
    }
    return n;
}

Mesos__Scheduler__Event *sched_last(const fake_t *sched, Mesos__Scheduler__Event__Type type)
{
    for (size_t k = sched->count; k-- > 0;) {
        if (strcmp(sched->messages[k].type, "mesos.scheduler.Event") != 0)
            continue;
        Mesos__Scheduler__Event *ev = event_at(sched, k);
        if (ev != NULL && ev->type == type)
            return ev;
        mesos__scheduler__event__free_unpacked(ev, NULL);
    }
    return NULL;
}

void sched_subscribe(fake_t *sched, const master_pids_t *master, const char *framework_id,
                     double failover_timeout, bool partition_aware, bool checkpoint)
{
    Mesos__FrameworkInfo info = MESOS__FRAMEWORK_INFO__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__FrameworkInfo__Capability cap = MESOS__FRAMEWORK_INFO__CAPABILITY__INIT;
    Mesos__FrameworkInfo__Capability *caps[] = {&cap};
    info.user = "tester";
    info.name = "test-framework";
    info.has_failover_timeout = true;
    info.failover_timeout = failover_timeout;
    info.has_checkpoint = true;
    info.checkpoint = checkpoint;
    if (partition_aware) {
        cap.has_type = true;
        cap.type = MESOS__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE;
        info.capabilities = caps;
        info.n_capabilities = 1;
    }
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    if (framework_id != NULL) {
        fid.value = (char *)framework_id;
        info.id = &fid;
        call.framework_id = &fid;
    }
    Mesos__Scheduler__Call__Subscribe sub = MESOS__SCHEDULER__CALL__SUBSCRIBE__INIT;
    sub.framework_info = &info;
    call.has_type = true;
    call.type = MESOS__SCHEDULER__CALL__TYPE__SUBSCRIBE;
    call.subscribe = &sub;
    fake_send(sched, &master->master, &call.base);
}

void sched_call(fake_t *sched, const master_pids_t *master, Mesos__Scheduler__Call *call)
{
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    fid.value = sched->framework_id;
    call->framework_id = &fid;
    call->has_type = true;
    fake_send(sched, &master->master, &call->base);
    call->framework_id = NULL;
}

void sched_launch(fake_t *sched, const master_pids_t *master, const Mesos__Offer *offer,
                  const char *task_id, const char *resources)
{
    resources_t res;
    char err[256];
    assert_int_equal(resources_parse(&res, resources, NULL, err, sizeof(err)), ACTOR_OK);
    Mesos__TaskInfo task = MESOS__TASK_INFO__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__CommandInfo cmd = MESOS__COMMAND_INFO__INIT;
    tid.value = (char *)task_id;
    cmd.value = "sleep 1000";
    task.name = (char *)task_id;
    task.task_id = &tid;
    task.agent_id = offer->agent_id;
    task.command = &cmd;
    assert_int_equal(resources_to_proto(&res, &task.resources, &task.n_resources), ACTOR_OK);
    sched_launch_task(sched, master, offer, &task);
    resources_proto_free(task.resources, task.n_resources);
    resources_fini(&res);
}

void sched_decline(fake_t *sched, const master_pids_t *master, const Mesos__Offer *offer,
                   double refuse_seconds)
{
    Mesos__Filters filters = MESOS__FILTERS__INIT;
    filters.has_refuse_seconds = true;
    filters.refuse_seconds = refuse_seconds;
    Mesos__OfferID *ids[] = {offer->id};
    Mesos__Scheduler__Call__Decline decline = MESOS__SCHEDULER__CALL__DECLINE__INIT;
    decline.offer_ids = ids;
    decline.n_offer_ids = 1;
    decline.filters = &filters;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__DECLINE;
    call.decline = &decline;
    sched_call(sched, master, &call);
}

void sched_acknowledge(fake_t *sched, const master_pids_t *master, const Mesos__TaskStatus *s)
{
    Mesos__Scheduler__Call__Acknowledge ack = MESOS__SCHEDULER__CALL__ACKNOWLEDGE__INIT;
    ack.agent_id = s->agent_id;
    ack.task_id = s->task_id;
    ack.uuid = s->uuid;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__ACKNOWLEDGE;
    call.acknowledge = &ack;
    sched_call(sched, master, &call);
}

/* ---- agents ---- */

void agent_register(fake_t *agent, const master_pids_t *master, const char *resources)
{
    agent_register_as(agent, master, "agent.test", resources);
}

void agent_register_as(fake_t *agent, const master_pids_t *master, const char *hostname,
                       const char *resources)
{
    resources_t res;
    char err[256];
    assert_int_equal(resources_parse(&res, resources, NULL, err, sizeof(err)), ACTOR_OK);
    Mesos__AgentInfo info = MESOS__AGENT_INFO__INIT;
    info.hostname = (char *)hostname;
    assert_int_equal(resources_to_proto(&res, &info.resources, &info.n_resources), ACTOR_OK);
    Mesos__Internal__RegisterAgentMessage reg = MESOS__INTERNAL__REGISTER_AGENT_MESSAGE__INIT;
    reg.agent = &info;
    fake_send(agent, &master->master, &reg.base);
    resources_proto_free(info.resources, info.n_resources);
    resources_fini(&res);
}

void agent_reregister(fake_t *agent, const master_pids_t *master, const char *framework_id,
                      const char *task_id)
{
    agent_reregister_with(agent, master, framework_id, task_id, NULL);
}

void agent_reregister_with(fake_t *agent, const master_pids_t *master, const char *framework_id,
                           const char *task_id, const char *task_resources)
{
    Mesos__Internal__ReregisterAgentMessage re = MESOS__INTERNAL__REREGISTER_AGENT_MESSAGE__INIT;
    Mesos__AgentInfo info = MESOS__AGENT_INFO__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    aid.value = agent->agent_id;
    info.hostname = "agent.test";
    info.id = &aid;
    re.agent = &info;
    Mesos__FrameworkInfo fw = MESOS__FRAMEWORK_INFO__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    fid.value = (char *)framework_id;
    fw.user = "tester";
    fw.name = "test-framework";
    fw.id = &fid;
    Mesos__FrameworkInfo *fws[] = {&fw};
    Mesos__Task task = MESOS__TASK__INIT;
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__Task *tasks[] = {&task};
    resources_t res;
    resources_init(&res);
    if (task_resources != NULL) {
        char err[256];
        assert_int_equal(resources_parse(&res, task_resources, NULL, err, sizeof(err)), ACTOR_OK);
        assert_int_equal(resources_to_proto(&res, &task.resources, &task.n_resources), ACTOR_OK);
    }
    if (task_id != NULL) {
        tid.value = (char *)task_id;
        task.name = (char *)task_id;
        task.task_id = &tid;
        task.framework_id = &fid;
        task.agent_id = &aid;
        task.state = MESOS__TASK_STATE__TASK_RUNNING;
        re.frameworks = fws;
        re.n_frameworks = 1;
        re.tasks = tasks;
        re.n_tasks = 1;
    }
    fake_send(agent, &master->master, &re.base);
    resources_proto_free(task.resources, task.n_resources);
    resources_fini(&res);
}

void agent_update(fake_t *agent, const master_pids_t *master, const char *framework_id,
                  const char *task_id, Mesos__TaskState state)
{
    Mesos__TaskID tid = MESOS__TASK_ID__INIT;
    Mesos__FrameworkID fid = MESOS__FRAMEWORK_ID__INIT;
    Mesos__AgentID aid = MESOS__AGENT_ID__INIT;
    tid.value = (char *)task_id;
    fid.value = (char *)framework_id;
    aid.value = agent->agent_id;
    uint8_t uuid[16] = {(uint8_t)state, 0xab};
    Mesos__TaskStatus status = MESOS__TASK_STATUS__INIT;
    status.task_id = &tid;
    status.state = state;
    status.agent_id = &aid;
    status.has_source = true;
    status.source = MESOS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
    status.has_uuid = true;
    status.uuid.data = uuid;
    status.uuid.len = sizeof(uuid);
    Mesos__Internal__StatusUpdate update = MESOS__INTERNAL__STATUS_UPDATE__INIT;
    update.framework_id = &fid;
    update.agent_id = &aid;
    update.status = &status;
    update.timestamp = 1;
    Mesos__Internal__StatusUpdateMessage msg = MESOS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;
    msg.update = &update;
    fake_send(agent, &master->master, &msg.base);
}

/* ---- HTTP ---- */

uint16_t cluster_http_listen(const master_pids_t *master)
{
    uint16_t port = 0;
    assert_int_equal(actor_http_listen("127.0.0.1", 0, master->master.id, &port), ACTOR_OK);
    return port;
}

typedef struct http_call {
    uint16_t port;
    char *request; /* the whole request */
    size_t request_len;
    char *response;
    size_t response_len;
    volatile int done;
} http_call_t;

static int connect_local(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *http_thread(void *arg)
{
    http_call_t *c = arg;
    int fd = connect_local(c->port);
    if (fd >= 0 && write(fd, c->request, c->request_len) == (ssize_t)c->request_len) {
        size_t cap = 1 << 16, len = 0;
        char *buf = malloc(cap);
        ssize_t n;
        while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
            len += (size_t)n;
            if (len + 1 == cap)
                buf = realloc(buf, cap *= 2);
        }
        buf[len] = '\0';
        c->response = buf;
        c->response_len = len;
    }
    if (fd >= 0)
        close(fd);
    __atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* The request text: method, path, the caller's header lines, a body. */
static char *request_text(const char *method, const char *path, const char *headers,
                          const void *body, size_t len, size_t *out_len)
{
    char head[4096];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: "
                     "%zu\r\n%s\r\n",
                     method, path, len, headers != NULL ? headers : "");
    char *text = malloc((size_t)n + len + 1);
    memcpy(text, head, (size_t)n);
    if (len > 0)
        memcpy(text + n, body, len);
    text[(size_t)n + len] = '\0';
    *out_len = (size_t)n + len;
    return text;
}

bool cluster_request(uint16_t port, const char *method, const char *path, const char *headers,
                     const void *body, size_t len, cluster_response_t *out)
{
    memset(out, 0, sizeof(*out));
    http_call_t c = {.port = port};
    c.request = request_text(method, path, headers, body, len, &c.request_len);
    pthread_t t;
    pthread_create(&t, NULL, http_thread, &c);
    for (int i = 0; i < 10000 && !__atomic_load_n(&c.done, __ATOMIC_ACQUIRE); i++) {
        actor_settle();
        usleep(1000);
    }
    pthread_join(t, NULL);
    free(c.request);
    if (c.response == NULL)
        return false;
    char *end = strstr(c.response, "\r\n\r\n");
    out->status = atoi(c.response + 9);
    size_t head = end != NULL ? (size_t)(end - c.response) + 4 : c.response_len;
    out->headers = strndup(c.response, head);
    out->len = c.response_len - head;
    out->body = malloc(out->len + 1);
    memcpy(out->body, c.response + head, out->len);
    out->body[out->len] = '\0';
    free(c.response);
    return true;
}

void cluster_response_free(cluster_response_t *r)
{
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

char *cluster_header(const char *headers, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = headers; line != NULL && *line != '\0';) {
        const char *eol = strstr(line, "\r\n");
        if (eol == NULL)
            break;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            return strndup(v, (size_t)(eol - v));
        }
        line = eol + 2;
    }
    return NULL;
}

json_t *cluster_json_path(json_t *j, const char *keys)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", keys);
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k != NULL && j != NULL;
         k = strtok_r(NULL, ".", &save))
        j = json_is_array(j) ? json_array_get(j, (size_t)atoi(k)) : json_object_get(j, k);
    return j;
}

const char *cluster_json_str(json_t *j, const char *keys)
{
    return json_string_value(cluster_json_path(j, keys));
}

char *cluster_http(uint16_t port, const char *method, const char *path, const char *body,
                   int *status)
{
    cluster_response_t r;
    if (!cluster_request(port, method, path, "Content-Type: application/json\r\n", body,
                         body != NULL ? strlen(body) : 0, &r))
        return NULL;
    *status = r.status;
    char *out = r.body;
    r.body = NULL;
    cluster_response_free(&r);
    return out;
}

/* ---- streams ---- */

struct cluster_stream {
    int fd;
    char *raw; /* bytes received and not yet de-chunked */
    size_t raw_len, raw_cap;
    bool head_done, ended;
    char *head;
    char *data; /* the de-chunked body */
    size_t data_len, data_cap, data_pos;
};

static void append(char **buf, size_t *len, size_t *cap, const char *bytes, size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
    }
    memcpy(*buf + *len, bytes, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* Moves the complete chunks of raw into data. */
static void dechunk(cluster_stream_t *s)
{
    if (!s->head_done) {
        char *end = s->raw != NULL ? strstr(s->raw, "\r\n\r\n") : NULL;
        if (end == NULL)
            return;
        size_t head = (size_t)(end - s->raw) + 4;
        s->head = strndup(s->raw, head);
        memmove(s->raw, s->raw + head, s->raw_len - head + 1);
        s->raw_len -= head;
        s->head_done = true;
    }
    size_t pos = 0;
    for (;;) {
        char *eol = s->raw != NULL ? strstr(s->raw + pos, "\r\n") : NULL;
        if (eol == NULL)
            break;
        size_t size = strtoul(s->raw + pos, NULL, 16);
        size_t start = (size_t)(eol - s->raw) + 2;
        if (start + size + 2 > s->raw_len)
            break;
        if (size == 0)
            s->ended = true;
        append(&s->data, &s->data_len, &s->data_cap, s->raw + start, size);
        pos = start + size + 2;
    }
    if (pos > 0) {
        memmove(s->raw, s->raw + pos, s->raw_len - pos + 1);
        s->raw_len -= pos;
    }
}

cluster_stream_t *cluster_stream_open(uint16_t port, const char *path, const char *headers,
                                      const void *body, size_t len)
{
    cluster_stream_t *s = calloc(1, sizeof(*s));
    s->fd = connect_local(port);
    assert_true(s->fd >= 0);
    size_t n;
    char *text = request_text("POST", path, headers, body, len, &n);
    assert_int_equal(write(s->fd, text, n), (ssize_t)n);
    free(text);
    return s;
}

/* The next complete RecordIO record in s->data, or NULL. */
static char *next_record(cluster_stream_t *s, size_t *len)
{
    char *nl =
        s->data != NULL ? memchr(s->data + s->data_pos, '\n', s->data_len - s->data_pos) : NULL;
    if (nl == NULL)
        return NULL;
    size_t size = strtoul(s->data + s->data_pos, NULL, 10);
    size_t start = (size_t)(nl - s->data) + 1;
    if (start + size > s->data_len)
        return NULL;
    char *rec = malloc(size + 1);
    memcpy(rec, s->data + start, size);
    rec[size] = '\0';
    s->data_pos = start + size;
    *len = size;
    return rec;
}

char *cluster_stream_record(cluster_stream_t *s, int timeout_ms, size_t *len)
{
    for (int waited = 0;; waited++) {
        char *rec = next_record(s, len);
        if (rec != NULL || waited >= timeout_ms || s->ended)
            return rec;
        actor_settle();
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 1) == 1) {
            char buf[65536];
            ssize_t n = read(s->fd, buf, sizeof(buf));
            if (n <= 0) {
                s->ended = true;
                continue;
            }
            append(&s->raw, &s->raw_len, &s->raw_cap, buf, (size_t)n);
            dechunk(s);
        }
    }
}

const char *cluster_stream_headers(cluster_stream_t *s)
{
    return s->head;
}

void cluster_stream_close(cluster_stream_t *s)
{
    close(s->fd);
    free(s->raw);
    free(s->head);
    free(s->data);
    free(s);
}

Mesos__Scheduler__Event *sched_nth(const fake_t *sched, Mesos__Scheduler__Event__Type type,
                                   size_t i)
{
    for (size_t k = 0; k < sched->count; k++) {
        if (strcmp(sched->messages[k].type, "mesos.scheduler.Event") != 0)
            continue;
        Mesos__Scheduler__Event *ev = event_at(sched, k);
        if (ev != NULL && ev->type == type && i-- == 0)
            return ev;
        mesos__scheduler__event__free_unpacked(ev, NULL);
    }
    return NULL;
}

void sched_launch_task(fake_t *sched, const master_pids_t *master, const Mesos__Offer *offer,
                       const Mesos__TaskInfo *task)
{
    Mesos__TaskInfo *tasks[] = {(Mesos__TaskInfo *)task};
    Mesos__Offer__Operation__Launch launch = MESOS__OFFER__OPERATION__LAUNCH__INIT;
    launch.task_infos = tasks;
    launch.n_task_infos = 1;
    Mesos__Offer__Operation op = MESOS__OFFER__OPERATION__INIT;
    op.has_type = true;
    op.type = MESOS__OFFER__OPERATION__TYPE__LAUNCH;
    op.launch = &launch;
    Mesos__Offer__Operation *ops[] = {&op};
    Mesos__OfferID *ids[] = {offer->id};
    Mesos__Scheduler__Call__Accept accept = MESOS__SCHEDULER__CALL__ACCEPT__INIT;
    accept.offer_ids = ids;
    accept.n_offer_ids = 1;
    accept.operations = ops;
    accept.n_operations = 1;
    Mesos__Scheduler__Call call = MESOS__SCHEDULER__CALL__INIT;
    call.type = MESOS__SCHEDULER__CALL__TYPE__ACCEPT;
    call.accept = &accept;
    sched_call(sched, master, &call);
}

/*
 * transport_loop.c: the transport's light engine: plain non-blocking sockets watched by the
 * runtime's I/O loop (io.h), so that it starts no thread of its own (transport_int.h says why).
 *
 * Socket calls run on the I/O thread, but for writes on a connected stream (engine_wake). The
 * hooks transport.c calls from other threads otherwise queue a `kick` there (one at a time per
 * peer), which dials an IDLE peer that has something to send or a link to keep, or writes what a
 * CONNECTED one has queued. A peer's one watcher sees the connect complete (writable), room to
 * write again (writable, while a write is short) and the stream breaking (readable: peers never
 * write on streams they accepted). Everything here is done under the peer's lock; a stream that
 * breaks is released at once, so CLOSING never lasts.
 *
 * Local streams. Beside its TCP port the engine listens on an abstract Unix socket named after
 * the address its PIDs give ("mesos-actor/IP:PORT"), and a dial tries that name first: a peer
 * on the same host (and network namespace, which abstract names belong to) that runs this
 * engine answers there, anyone else refuses at once and is dialled over TCP. Same bytes either
 * way; a Unix stream costs about a third of a loopback TCP one (an agent and its executors talk
 * over two streams per executor) and leaves no TIME_WAIT behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <utlist.h>

#include "actor/io.h"
#include "actor/log.h"
#include "actor/transport_int.h"

#define ACCEPT_PAUSE_S    0.1         /* after a failed accept (out of descriptors, say) */
#define RECV_CHUNK        (64u << 10) /* bytes read from an incoming stream at a time */
#define RESERVED_MAX      64          /* ranges of ip_local_reserved_ports honoured */
#define RANDOM_PORT_TRIES 32  /* before a bind to any free port leaves the choice to the kernel */
#define SWEEP_S           1.0 /* between sweeps of idle peers (transport_sweep_idle_peers) */

typedef struct loop_conn {
    int fd;
    ev_io watcher;
    in_decoder_t in;
    struct loop_conn *next, *prev; /* utlist */
} loop_conn_t;

/* Touched on the I/O thread only, once listen() returned. */
static struct {
    int listen_fd;
    int local_fd; /* the abstract Unix listener, or -1 */
    ev_io accept_watcher;
    ev_io local_accept_watcher;
    ev_timer sweep; /* frees idle peers' records */
    ev_timer accept_pause;
    loop_conn_t *conns;
    /* Every read lands here: all happen on the I/O thread, and the decoder keeps what a record
     * split across reads needs, so one buffer serves every stream. */
    uint8_t buf[RECV_CHUNK];
} lp = {.listen_fd = -1, .local_fd = -1};

/* The abstract Unix name of the process whose PIDs give ip:port; returns the address length. */
static socklen_t local_name(uint32_t ip, uint16_t port, struct sockaddr_un *su)
{
    memset(su, 0, sizeof(*su));
    su->sun_family = AF_UNIX;
    /* sun_path[0] stays 0: abstract, gone with the socket, no file to clean up */
    int n = snprintf(su->sun_path + 1, sizeof(su->sun_path) - 1, "mesos-actor/%u.%u.%u.%u:%u",
                     ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff, port);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* ---- outgoing ---- */

static void watch(peer_t *p, int events)
{
    ev_io *w = &p->e.loop.watcher;
    if (ev_is_active(w) && w->events == events)
        return;
    ev_io_stop(actor_io_loop(), w);
    ev_io_set(w, p->e.loop.fd, events);
    ev_io_start(actor_io_loop(), w);
}

/* Releases the peer's socket; the peer is IDLE. */
static void release_stream(peer_t *p)
{
    ev_io_stop(actor_io_loop(), &p->e.loop.watcher);
    if (p->e.loop.fd >= 0)
        close(p->e.loop.fd);
    p->e.loop.fd = -1;
    p->state = PEER_IDLE;
    peer_trim(p);
}

static void peer_break(peer_t *p, const char *why, int err)
{
    peer_broke(p, why, err != 0 ? strerror(err) : "end of stream");
    release_stream(p);
}

/* Writes what is queued until it is all written (returns 0) or the socket is full (EAGAIN), or
 * the write fails (its errno). Touches no watcher, so any thread may call it, lock held. */
static int send_queued(peer_t *p)
{
    const uint8_t *data;
    size_t len;
    while (peer_next_write(p, &data, &len)) {
        ssize_t n = send(p->e.loop.fd, data, len, MSG_NOSIGNAL);
        if (n > 0)
            peer_wrote(p, (size_t)n);
        else if (n < 0 && errno == EWOULDBLOCK)
            return EAGAIN;
        else if (n < 0 && errno != EINTR)
            return errno;
        else if (n == 0)
            return EPIPE;
    }
    return 0;
}

/* On the I/O thread: writes what is queued, watching for room when the socket is full. */
static void write_some(peer_t *p)
{
    int err = send_queued(p);
    p->e.loop.write_blocked = err == EAGAIN;
    if (err == 0)
        watch(p, EV_READ);
    else if (err == EAGAIN)
        watch(p, EV_READ | EV_WRITE);
    else
        peer_break(p, "write failed", err);
}

static void on_connected(peer_t *p)
{
    if (!peer_connected(p)) {
        release_stream(p);
        peer_dial_failed(p, transport_is_stopping() ? "stopping" : "out of memory");
        return;
    }
    write_some(p);
}

static void dial_failed(peer_t *p, int err)
{
    release_stream(p);
    peer_dial_failed(p, strerror(err));
}

/* The peer's local stream, connected at once, or -1 when it has none here (refused, or a
 * backlog full: TCP then). */
static int connect_local(const peer_t *p)
{
    struct sockaddr_un su;
    socklen_t len = local_name(p->ip, p->port, &su);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&su, len) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void start_connect(peer_t *p)
{
    int local = connect_local(p);
    if (local >= 0) {
        p->e.loop.fd = local;
        p->state = PEER_CONNECTING;
        on_connected(p);
        return;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        dial_failed(p, errno);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(p->port), .sin_addr.s_addr = htonl(p->ip)};
    p->e.loop.fd = fd;
    p->state = PEER_CONNECTING;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        on_connected(p);
    else if (errno == EINPROGRESS)
        watch(p, EV_WRITE);
    else
        dial_failed(p, errno);
}

/* A relink's fresh stream, before anything else happens on the old one (its break or its
 * connect completing, already pending on the loop, must not act for the new one): what was
 * handed to a connected stream is dropped, the stream or the dial in progress closed, and a new
 * dial made if messages or links wait. Returns whether it acted. Lock held. */
static bool apply_relink(peer_t *p)
{
    if (!p->e.loop.fresh_stream)
        return false;
    p->e.loop.fresh_stream = false;
    if (p->state == PEER_CONNECTED)
        peer_drop_inflight(p);
    if (p->state != PEER_IDLE)
        release_stream(p);
    p->e.loop.write_blocked = false;
    if (peer_wants_stream(p))
        start_connect(p);
    return true;
}

static void on_peer_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    peer_t *p = w->data;
    pthread_mutex_lock(&p->lock);
    if (apply_relink(p)) {
        /* the old stream's events are moot */
    } else if (p->state == PEER_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(p->e.loop.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err != 0)
            dial_failed(p, err);
        else
            on_connected(p);
    } else if (p->state == PEER_CONNECTED) {
        if (revents & EV_READ) {
            uint8_t probe[64];
            ssize_t n = recv(p->e.loop.fd, probe, sizeof(probe), 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                peer_break(p, "closed by peer", n < 0 ? errno : 0);
            /* else stray bytes: peers never write here; ignore them */
        }
        if (p->state == PEER_CONNECTED && (revents & EV_WRITE))
            write_some(p);
    }
    pthread_mutex_unlock(&p->lock);
}

static void on_kick(void *arg)
{
    peer_t *p = arg;
    pthread_mutex_lock(&p->lock);
    p->e.loop.kick_queued = false;
    if (!transport_is_stopping() && !apply_relink(p)) {
        if (p->state == PEER_IDLE && peer_wants_stream(p))
            start_connect(p);
        else if (p->state == PEER_CONNECTED)
            write_some(p);
    }
    pthread_mutex_unlock(&p->lock);
}

/* Lock held. The node is the peer's own, so queueing cannot fail while the loop runs (the
 * transport stops before it). */
static void queue_kick(peer_t *p)
{
    if (p->e.loop.kick_queued || transport_is_stopping())
        return;
    if (actor_io_post(&p->e.loop.kick) == ACTOR_OK)
        p->e.loop.kick_queued = true;
}

/* A connected stream is written at once from the sending thread: handing each message to the
 * I/O thread would cost a wake-up of it per message (an executor's run is a few messages, each
 * wake-up a pair of context switches). A failure is left to the I/O thread, which owns the
 * watcher; so is a write while the socket is full (the queue batches until there is room) and
 * a message for a stream being dialled (it goes out once connected). */
static void engine_wake(peer_t *p)
{
    peer_loop_t *l = &p->e.loop;
    if (l->fresh_stream || l->kick_queued || p->state == PEER_IDLE) {
        queue_kick(p);
    } else if (p->state == PEER_CONNECTED && !l->write_blocked) {
        int err = send_queued(p);
        l->write_blocked = err == EAGAIN;
        if (err != 0)
            queue_kick(p); /* the I/O thread watches for room, or finds the failure */
    }
}

static void engine_relink(peer_t *p)
{
    p->e.loop.fresh_stream = p->state != PEER_IDLE;
    queue_kick(p);
}

/* Without a socket its watcher is stopped, and a relink's fresh_stream waits in a queued kick. */
static bool engine_peer_idle(const peer_t *p)
{
    return p->e.loop.fd < 0 && !p->e.loop.kick_queued;
}

static bool engine_peer_init(peer_t *p)
{
    p->e.loop.fd = -1;
    p->e.loop.kick = (actor_io_node_t){.fn = on_kick, .arg = p};
    ev_io_init(&p->e.loop.watcher, on_peer_io, -1, 0);
    p->e.loop.watcher.data = p;
    return true;
}

/* ---- incoming ---- */

static void conn_close(loop_conn_t *c)
{
    ev_io_stop(actor_io_loop(), &c->watcher);
    close(c->fd);
    DL_DELETE(lp.conns, c);
    in_decoder_fini(&c->in);
    free(c);
}

static void on_conn_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop, (void)revents;
    loop_conn_t *c = w->data;
    ssize_t n = read(c->fd, lp.buf, RECV_CHUNK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        in_decoder_ended(&c->in);
        conn_close(c);
    } else if (!in_decoder_feed(&c->in, lp.buf, (size_t)n)) {
        conn_close(c);
    }
}

/* remote names the stream in the decoder's messages. */
static void conn_open(int fd, const char *remote)
{
    loop_conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        LOG_ERROR("Out of memory accepting a connection");
        close(fd);
        return;
    }
    in_decoder_init(&c->in, remote);
    c->fd = fd;
    DL_PREPEND(lp.conns, c);
    ev_io_init(&c->watcher, on_conn_readable, fd, EV_READ);
    c->watcher.data = c;
    ev_io_start(actor_io_loop(), &c->watcher);
}

static void on_accept_pause_over(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w, (void)revents;
    ev_io_start(loop, &lp.accept_watcher);
    if (lp.local_fd >= 0)
        ev_io_start(loop, &lp.local_accept_watcher);
}

/* Both listeners: the TCP one's peers are named by their address, the local one's are "local". */
static void on_acceptable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    for (;;) {
        struct sockaddr_in from = {0};
        socklen_t len = sizeof(from);
        bool local = w == &lp.local_accept_watcher;
        int fd = accept4(w->fd, local ? NULL : (struct sockaddr *)&from, local ? NULL : &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            char remote[64] = "local";
            uint32_t ip = ntohl(from.sin_addr.s_addr);
            if (!local)
                snprintf(remote, sizeof(remote), "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 0xff,
                         (ip >> 8) & 0xff, ip & 0xff, ntohs(from.sin_port));
            conn_open(fd, remote);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            /* Out of descriptors, say: wait a little rather than go deaf or spin. */
            transport_warn_accept(strerror(errno));
            ev_io_stop(loop, &lp.accept_watcher);
            ev_io_stop(loop, &lp.local_accept_watcher);
            ev_timer_set(&lp.accept_pause, ACCEPT_PAUSE_S, 0);
            ev_timer_start(loop, &lp.accept_pause);
        }
        return;
    }
}

/* ---- lifecycle ---- */

/* On the I/O thread, where every peer's socket and queued call live: nothing of the engine's can
 * change under the sweep. */
static void on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    transport_sweep_idle_peers();
}

static void start_accepting(void *unused)
{
    (void)unused;
    ev_timer_init(&lp.sweep, on_sweep, SWEEP_S, SWEEP_S);
    ev_timer_start(actor_io_loop(), &lp.sweep);
    ev_io_init(&lp.accept_watcher, on_acceptable, lp.listen_fd, EV_READ);
    ev_io_init(&lp.local_accept_watcher, on_acceptable, lp.local_fd, EV_READ);
    ev_timer_init(&lp.accept_pause, on_accept_pause_over, ACCEPT_PAUSE_S, 0);
    ev_io_start(actor_io_loop(), &lp.accept_watcher);
    if (lp.local_fd >= 0)
        ev_io_start(actor_io_loop(), &lp.local_accept_watcher);
}

/* The local listener for the PIDs' ip:port, or -1 (then peers here dial over TCP): another
 * process's name can only be in the way if it has the same address, which the TCP bind rules
 * out but for a stale listener. */
static int listen_local(uint32_t ip, uint16_t port)
{
    struct sockaddr_un su;
    socklen_t len = local_name(ip, port, &su);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && (bind(fd, (struct sockaddr *)&su, len) != 0 || listen(fd, SOMAXCONN) != 0)) {
        LOG_WARNING("No local streams for @%s: %s; peers on this host dial over TCP",
                    su.sun_path + 1, strerror(errno));
        close(fd);
        fd = -1;
    }
    return fd;
}

typedef struct port_range {
    unsigned low, high;
} port_range_t;

/* The kernel's ephemeral port range, where a bind to port 0 would land. */
static port_range_t ephemeral_range(void)
{
    port_range_t r = {32768, 60999};
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    unsigned a, b;
    if (f != NULL && fscanf(f, "%u %u", &a, &b) == 2 && a > 0 && a < b && b < 65536)
        r = (port_range_t){a, b};
    if (f != NULL)
        fclose(f);
    return r;
}

/* The ports an operator reserved (ip_local_reserved_ports: "8080,9000-9100"), which a bind to
 * port 0 never takes. Returns how many ranges went into out. */
static size_t reserved_ports(port_range_t *out, size_t max)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_reserved_ports", "r");
    size_t n = 0;
    unsigned a, b;
    int c = 0;
    while (f != NULL && n < max && fscanf(f, "%u", &a) == 1) {
        b = a;
        if ((c = fgetc(f)) == '-' && fscanf(f, "%u", &b) == 1)
            c = fgetc(f);
        out[n++] = (port_range_t){a, b};
        if (c != ',')
            break;
    }
    if (f != NULL)
        fclose(f);
    return n;
}

static bool port_reserved(unsigned port, const port_range_t *reserved, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (port >= reserved[i].low && port <= reserved[i].high)
            return true;
    }
    return false;
}

/* Binds fd to a free port drawn at random from the ephemeral range (skipping reserved ones), else
 * (after RANDOM_PORT_TRIES ports in use) to whatever port the kernel finds. Why not port 0 at
 * once: the kernel looks for a free port by walking up from a random one, skipping every port
 * held, even by TIME_WAIT; a host that has run thousands of executors holds thousands of such
 * ports in runs, and that walk cost more CPU than the rest of an executor's start (measured with
 * perf: inet_bind2_bucket_find and inet_bhash2_conflict). A random probe checks one port. */
static int bind_any_port(int fd, struct sockaddr_in *sa)
{
    port_range_t range = ephemeral_range(), reserved[RESERVED_MAX];
    size_t reserved_count = reserved_ports(reserved, RESERVED_MAX);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint32_t x = ((uint32_t)getpid() * 2654435761u ^ (uint32_t)now.tv_nsec) | 1; /* never 0 */
    for (int i = 0; i < RANDOM_PORT_TRIES; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
        unsigned port = range.low + x % (range.high - range.low + 1);
        if (port_reserved(port, reserved, reserved_count))
            continue;
        sa->sin_port = htons((uint16_t)port);
        if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)) == 0)
            return 0;
        if (errno != EADDRINUSE)
            break;
    }
    sa->sin_port = 0;
    return bind(fd, (struct sockaddr *)sa, sizeof(*sa));
}

static actor_err_t engine_listen(const char *bind_ip, uint32_t advertised_ip, uint16_t port,
                                 uint16_t *bound)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, bind_ip, &sa.sin_addr) != 1)
        return ACTOR_EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ACTOR_ESYSTEM;
    /* The port can be taken again at once after a restart (an agent's: its executors find it
     * there), past the old streams' TIME_WAIT, as nng's listeners allow. For that the option must
     * be on the old streams too, so it is set whatever the port. */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    socklen_t len = sizeof(sa);
    int rc = port == 0 ? bind_any_port(fd, &sa) : bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    if (rc != 0 || listen(fd, SOMAXCONN) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        int err = errno;
        LOG_ERROR("Failed to listen on tcp://%s:%u: %s", bind_ip, port, strerror(err));
        close(fd);
        return err == EADDRINUSE ? ACTOR_EADDRINUSE : ACTOR_ESYSTEM;
    }
    *bound = ntohs(sa.sin_port);
    lp.listen_fd = fd;
    lp.local_fd = listen_local(advertised_ip, *bound);
    lp.conns = NULL;
    actor_err_t err = actor_io_call(start_accepting, NULL);
    if (err != ACTOR_OK) {
        close(fd);
        if (lp.local_fd >= 0)
            close(lp.local_fd);
        lp.listen_fd = lp.local_fd = -1;
    }
    return err;
}

static void peer_stop(peer_t *p)
{
    pthread_mutex_lock(&p->lock);
    if (p->e.loop.fd >= 0)
        release_stream(p);
    pthread_mutex_unlock(&p->lock);
}

/* On the I/O thread: closes everything. */
static void stop_everything(void *unused)
{
    (void)unused;
    ev_io_stop(actor_io_loop(), &lp.accept_watcher);
    ev_io_stop(actor_io_loop(), &lp.local_accept_watcher);
    ev_timer_stop(actor_io_loop(), &lp.accept_pause);
    ev_timer_stop(actor_io_loop(), &lp.sweep);
    close(lp.listen_fd);
    if (lp.local_fd >= 0)
        close(lp.local_fd);
    lp.listen_fd = lp.local_fd = -1;
    while (lp.conns != NULL)
        conn_close(lp.conns);
    transport_each_peer(peer_stop);
}

static void engine_stop(void)
{
    /* The sockets must be closed on the loop's thread, which outlives the transport. */
    while (actor_io_call_sync(stop_everything, NULL) == ACTOR_ENOMEM)
        sched_yield();
}

const transport_engine_t transport_loop_engine = {
    .name = "loop",
    .listen = engine_listen,
    .peer_init = engine_peer_init,
    .wake = engine_wake,
    .relink = engine_relink,
    .peer_idle = engine_peer_idle,
    .stop = engine_stop,
};

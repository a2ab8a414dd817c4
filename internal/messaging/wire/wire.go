// Package wire is what the messaging protocols share: JSON frames over a
// WebSocket, as LivePerson's messaging protocols frame them ({kind, id,
// type, body, headers, metadata, encodedMetadata} requests, {kind, reqId,
// code, type, body} responses, {kind, type, body} notifications), and a
// connection that reads requests in order and writes through a bounded
// queue, so that a slow reader never holds up the service: a connection
// whose queue is full is closed.
//
// Every response names its type {requestType}$Response (LivePerson's
// convention, which its agent SDK relies on: it runs a transformer keyed
// by the response's type, and emits the type as an event) and carries a
// body: an absent or null body, which the SDK's transformers dereference,
// is never sent; a nil slice goes out as [] and anything else nil as {}.
//
// The WebSocket library is github.com/coder/websocket: maintained, small,
// context-aware, and it answers pings and bounds message sizes itself.
package wire

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Frame kinds.
const (
	KindRequest      = "req"
	KindResponse     = "resp"
	KindNotification = "notification"
)

// Frame is one message of a connection.
type Frame struct {
	Kind string `json:"kind"`
	// ID is a request's id, ReqID the id of the request a response
	// answers: kept as the client sent it (a string or a number).
	ID    json.RawMessage `json:"id,omitempty"`
	ReqID json.RawMessage `json:"reqId,omitempty"`
	Type  string          `json:"type,omitempty"`
	Code  int             `json:"code,omitempty"`
	Body  json.RawMessage `json:"body,omitempty"`
	// Headers, Metadata and EncodedMetadata are a request's optional
	// top-level fields, kept as the client sent them (JSON, possibly
	// null): LivePerson's agent SDK sends an event's metadata (an array of
	// typed objects) in Metadata, not in the body. See Present.
	Headers         json.RawMessage `json:"headers,omitempty"`
	Metadata        json.RawMessage `json:"metadata,omitempty"`
	EncodedMetadata json.RawMessage `json:"encodedMetadata,omitempty"`
}

// Present reports whether a frame's optional field was sent with a value
// other than null.
func Present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// MaxTypeLen is the longest request type.
const MaxTypeLen = 128

// ResponseType returns the type of the response to a request of type
// typ: typ + "$Response", or "" when typ is not a valid request type (a
// frame that could not be read), so that a response's type never
// collides with a request's or an event name of the client's.
func ResponseType(typ string) string {
	if typ == "" || len(typ) > MaxTypeLen {
		return ""
	}
	return typ + "$Response"
}

// Limits of a connection.
const (
	// MaxFrameBytes is the largest frame a client may send.
	MaxFrameBytes = 256 << 10
	// QueueFrames is how many frames may wait to be written to a client
	// before it is taken for too slow and closed, unless Options say
	// otherwise.
	QueueFrames = 1024
)

// FieldError is a bad request: it names the field and what is wrong.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Errorf returns a FieldError for field.
func Errorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a frame a client sent: a JSON object with a kind, a type
// and, for a request, an id. What is wrong is a FieldError.
func Parse(b []byte) (Frame, error) {
	var f Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return f, &FieldError{Field: "frame", Msg: "not a JSON object of kind, id, type and body: " + err.Error()}
	}
	switch {
	case f.Kind != KindRequest:
		return f, Errorf("kind", "%.40q, must be %q", f.Kind, KindRequest)
	case len(f.ID) == 0 || string(f.ID) == "null":
		return f, Errorf("id", "required")
	case f.ID[0] != '"' && (f.ID[0] < '0' || f.ID[0] > '9'):
		return f, Errorf("id", "must be a string or a number")
	case f.Type == "":
		return f, Errorf("type", "required")
	case len(f.Type) > MaxTypeLen:
		return f, Errorf("type", "%d bytes, limit %d", len(f.Type), MaxTypeLen)
	}
	return f, nil
}

// DecodeBody decodes a request's body into v; a body that does not fit is
// a FieldError naming "body".
func DecodeBody(f Frame, v any) error {
	if len(f.Body) == 0 || string(f.Body) == "null" {
		return Errorf("body", "required")
	}
	if err := json.Unmarshal(f.Body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return Errorf("body."+te.Field, "must be %s, not %s", te.Type, te.Value)
		}
		return Errorf("body", "%v", err)
	}
	return nil
}

// Handler handles the requests of one connection, in order.
type Handler interface {
	// Request handles req; it answers through c.
	Request(ctx context.Context, c *Conn, req Frame)
	// Closed is called once, after the connection's last request.
	Closed()
}

// Options configure Serve.
type Options struct {
	// OriginPatterns are the hosts of the origins allowed besides the
	// request's own (see websocket.AcceptOptions); nil allows all.
	OriginPatterns []string
	// PingInterval is how often the server pings an idle client; a client
	// that does not answer within the interval is closed.
	PingInterval time.Duration
	// QueueFrames is how many frames may wait to be written before the
	// client is taken for too slow and closed; 0 is QueueFrames. Waiting
	// frames alone take memory.
	QueueFrames int
	// WriteTimeout is how long a client may leave a frame unread (its
	// socket buffers full) before it is taken for gone and closed; 0 is
	// WriteTimeout.
	WriteTimeout time.Duration
	Logger       *slog.Logger
}

// WriteTimeout is Options.WriteTimeout's default.
const WriteTimeout = 10 * time.Second

// Conn is a client's connection.
type Conn struct {
	ws     *websocket.Conn
	done   chan struct{}
	once   sync.Once
	logger *slog.Logger
	// wake tells the writer that frames were queued.
	wake chan struct{}
	// limit is the most frames that may wait.
	limit        int
	writeTimeout time.Duration

	mu sync.Mutex
	// out holds the frames waiting to be written, at most limit: a
	// slice that grows as frames wait, rather than a channel of
	// QueueFrames slots, which would take 24 KiB a connection from its
	// start whether frames wait or not (most of what a visitor's idle
	// connection would weigh).
	out [][]byte
}

// keptQueue is the most frames the writer's spare queue keeps room for
// between bursts.
const keptQueue = 16

// Serve upgrades the request to a WebSocket and serves it until it
// closes: it calls newHandler with the connection, then handler.Request
// for each request frame. Bad frames are answered with a 400 response
// naming the field.
func Serve(w http.ResponseWriter, r *http.Request, opts Options, newHandler func(*Conn) Handler) {
	ao := &websocket.AcceptOptions{OriginPatterns: opts.OriginPatterns, CompressionMode: websocket.CompressionDisabled}
	if opts.OriginPatterns == nil {
		ao.InsecureSkipVerify = true
	}
	ws, err := websocket.Accept(w, r, ao)
	if err != nil {
		return // Accept has answered
	}
	ws.SetReadLimit(MaxFrameBytes)
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Conn{ws: ws, done: make(chan struct{}), wake: make(chan struct{}, 1), limit: cmp.Or(opts.QueueFrames, QueueFrames),
		writeTimeout: cmp.Or(opts.WriteTimeout, WriteTimeout), logger: logger}
	// The request's context lives as long as the connection, and ends
	// when the server shuts down.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	h := newHandler(c)
	defer h.Closed()
	go c.write(ctx, opts.PingInterval)
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				c.close(websocket.StatusGoingAway, "server shutting down")
			} else {
				c.close(websocket.StatusNormalClosure, "")
			}
			return
		}
		f, err := Parse(b)
		if err != nil {
			c.Error(f, http.StatusBadRequest, err)
			continue
		}
		h.Request(ctx, c, f)
	}
}

// write writes the queued frames and pings until the connection closes.
func (c *Conn) write(ctx context.Context, ping time.Duration) {
	var tick <-chan time.Time
	if ping > 0 {
		t := time.NewTicker(ping)
		defer t.Stop()
		tick = t.C
	}
	var spare [][]byte
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
			// The frames queued meanwhile, in order; the queue starts
			// again from the spare slice.
			c.mu.Lock()
			batch := c.out
			c.out = spare
			c.mu.Unlock()
			for _, b := range batch {
				wctx, cancel := context.WithTimeout(ctx, c.writeTimeout)
				err := c.ws.Write(wctx, websocket.MessageText, b)
				cancel()
				if err != nil {
					c.close(websocket.StatusGoingAway, "write failed")
					return
				}
			}
			clear(batch)
			spare = nil
			if cap(batch) <= keptQueue {
				spare = batch[:0]
			}
		case <-tick:
			pctx, cancel := context.WithTimeout(ctx, ping)
			err := c.ws.Ping(pctx)
			cancel()
			if err != nil {
				c.close(websocket.StatusGoingAway, "no answer to ping")
				return
			}
		}
	}
}

// close closes the connection once.
func (c *Conn) close(code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		close(c.done)
		go c.ws.Close(code, reason)
	})
}

// Done is closed when the connection has closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Close closes the connection with a reason the client is told.
func (c *Conn) Close(reason string) { c.close(websocket.StatusPolicyViolation, reason) }

// CloseWith closes the connection with a close code of the protocol's
// (4000-4999: LivePerson's 4401 for an expired token) and a reason.
func (c *Conn) CloseWith(code int, reason string) { c.close(websocket.StatusCode(code), reason) }

// send queues a frame; a full queue closes the connection.
func (c *Conn) send(f Frame) {
	b, err := json.Marshal(f)
	if err != nil {
		c.logger.Error("cannot encode frame", "type", f.Type, "err", err)
		return
	}
	select {
	case <-c.done:
		return
	default:
	}
	c.mu.Lock()
	full := len(c.out) >= c.limit
	if !full {
		c.out = append(c.out, b)
	}
	c.mu.Unlock()
	if full {
		c.logger.Warn("messaging client too slow, closing its connection", "queued", c.limit)
		c.close(websocket.StatusTryAgainLater, "too slow: too many frames waiting")
		return
	}
	select {
	case c.wake <- struct{}{}:
	default: // the writer has been woken already
	}
}

// Reply answers req with code and body (a value encoded as JSON, never
// null: see the package doc), typed ResponseType(req.Type).
func (c *Conn) Reply(req Frame, code int, body any) {
	typ := ResponseType(req.Type)
	b, err := EncodeBody(body)
	if err != nil {
		c.logger.Error("cannot encode response", "type", typ, "err", err)
		code, b = http.StatusInternalServerError, []byte(`{"msg":"internal error"}`)
	}
	c.send(Frame{Kind: KindResponse, ReqID: req.ID, Type: typ, Code: code, Body: b})
}

// ErrorBody is the body of an error response: what failed, and the field
// of a FieldError.
func ErrorBody(err error) map[string]string {
	body := map[string]string{"msg": err.Error()}
	var fe *FieldError
	if errors.As(err, &fe) {
		body["field"] = fe.Field
	}
	return body
}

// Error answers req with an error response: code and ErrorBody(err).
func (c *Conn) Error(req Frame, code int, err error) {
	c.Reply(req, code, ErrorBody(err))
}

// Notify sends a notification of type typ with body (never null).
func (c *Conn) Notify(typ string, body any) {
	b, err := EncodeBody(body)
	if err != nil {
		c.logger.Error("cannot encode notification", "type", typ, "err", err)
		return
	}
	c.send(Frame{Kind: KindNotification, Type: typ, Body: b})
}

// EncodeBody encodes a response's or notification's body as JSON: a nil
// slice (or array pointer) as [], any other nil as {}.
func EncodeBody(body any) (json.RawMessage, error) {
	b, err := json.Marshal(body)
	if err != nil || string(b) != "null" {
		return b, err
	}
	if v := reflect.ValueOf(body); v.IsValid() && (v.Kind() == reflect.Slice ||
		v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Array) {
		return json.RawMessage("[]"), nil
	}
	return json.RawMessage("{}"), nil
}

// Package wire is what the messaging protocols share: JSON frames over a
// WebSocket, as LivePerson's messaging protocols frame them ({kind, id,
// type, body} requests, {kind, reqId, code, body} responses, {kind, type,
// body} notifications), and a connection that reads requests in order and
// writes through a bounded queue, so that a slow reader never holds up
// the service: a connection whose queue is full is closed.
//
// The WebSocket library is github.com/coder/websocket: maintained, small,
// context-aware, and it answers pings and bounds message sizes itself.
package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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
}

// Limits of a connection.
const (
	// MaxFrameBytes is the largest frame a client may send.
	MaxFrameBytes = 256 << 10
	// QueueFrames is how many frames may wait to be written to a client
	// before it is taken for too slow and closed.
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
	case len(f.Type) > 128:
		return f, Errorf("type", "%d bytes, limit 128", len(f.Type))
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
	Logger       *slog.Logger
}

// Conn is a client's connection.
type Conn struct {
	ws     *websocket.Conn
	out    chan []byte
	done   chan struct{}
	once   sync.Once
	logger *slog.Logger
}

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
	c := &Conn{ws: ws, out: make(chan []byte, QueueFrames), done: make(chan struct{}), logger: logger}
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
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := c.ws.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.close(websocket.StatusGoingAway, "write failed")
				return
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

// send queues a frame; a full queue closes the connection.
func (c *Conn) send(f Frame) {
	b, err := json.Marshal(f)
	if err != nil {
		c.logger.Error("cannot encode frame", "type", f.Type, "err", err)
		return
	}
	select {
	case <-c.done:
	case c.out <- b:
	default:
		c.logger.Warn("messaging client too slow, closing its connection", "queued", QueueFrames)
		c.close(websocket.StatusTryAgainLater, "too slow: too many frames waiting")
	}
}

// Reply answers req with code and body (a value encoded as JSON); typ, if
// not empty, names the response's type.
func (c *Conn) Reply(req Frame, code int, typ string, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		c.logger.Error("cannot encode response", "type", typ, "err", err)
		code, b = http.StatusInternalServerError, []byte(`{"message":"internal error"}`)
	}
	c.send(Frame{Kind: KindResponse, ReqID: req.ID, Type: typ, Code: code, Body: b})
}

// Error answers req with an error response: code and a body that says
// what failed, naming the field of a FieldError.
func (c *Conn) Error(req Frame, code int, err error) {
	body := map[string]string{"msg": err.Error()}
	var fe *FieldError
	if errors.As(err, &fe) {
		body["field"] = fe.Field
	}
	c.Reply(req, code, "", body)
}

// Notify sends a notification of type typ with body.
func (c *Conn) Notify(typ string, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		c.logger.Error("cannot encode notification", "type", typ, "err", err)
		return
	}
	c.send(Frame{Kind: KindNotification, Type: typ, Body: b})
}

// Package chatload holds Go clients of Sightline's two messaging
// protocols, for the tools and tests that put load on a server or crash it
// and need to talk to it as its real clients do: a Visitor speaks the chat
// window's protocol (package consumer), an Agent LivePerson's agent
// protocol (package lpagent), both over a Conn of package wire's frames.
//
// The clients are lean, so that one process can hold tens of thousands of
// them: a connection is a WebSocket and one reader goroutine, which
// matches responses to requests and hands notifications to a callback.
// Callbacks run in that reader: they must be quick and must not make
// requests of the same connection (its response would wait for the
// reader).
package chatload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/coder/websocket"
)

// Frame is a frame a client reads: a response or a notification.
type Frame struct {
	Kind  string          `json:"kind"`
	ReqID json.RawMessage `json:"reqId,omitempty"`
	Type  string          `json:"type"`
	Code  int             `json:"code,omitempty"`
	Body  json.RawMessage `json:"body,omitempty"`
}

// StatusError is a response whose code is not 2xx.
type StatusError struct {
	Type string // the request's type
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: %d %.300s", e.Type, e.Code, e.Body)
}

// ErrClosed is the error of a request whose connection closed before the
// response came: the request may or may not have been carried out.
var ErrClosed = errors.New("connection closed")

// notificationPrefix starts the notifications package wire encodes (its
// Frame's first field is kind): those a connection drops are not decoded.
var notificationPrefix = []byte(`{"kind":"notification"`)

// maxFrameBytes bounds the frames a client reads (a history of a thousand
// long messages fits).
const maxFrameBytes = 32 << 20

// Conn is a client's WebSocket of package wire's frames. Its methods are
// safe for concurrent use.
type Conn struct {
	ws     *websocket.Conn
	notify func(Frame)
	cancel context.CancelFunc // of the reader

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan Frame
	done    chan struct{} // closed once the connection has closed
	err     error         // why it closed, once done is closed
}

// Dial opens a WebSocket at url (ws:// or wss://) with client (nil: the
// default client) and reads its frames until it closes: responses go to
// their requests, notifications to notify (nil: dropped).
func Dial(ctx context.Context, client *http.Client, url string, notify func(Frame)) (*Conn, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: client, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", url, err)
	}
	ws.SetReadLimit(maxFrameBytes)
	rctx, cancel := context.WithCancel(context.Background())
	c := &Conn{ws: ws, notify: notify, cancel: cancel, pending: map[int64]chan Frame{}, done: make(chan struct{})}
	go c.read(rctx)
	return c, nil
}

// read reads frames until the connection fails or closes.
func (c *Conn) read(ctx context.Context) {
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			c.fail(err)
			return
		}
		if c.notify == nil && bytes.HasPrefix(b, notificationPrefix) {
			continue // not wanted: not decoded
		}
		var f Frame
		if err := json.Unmarshal(b, &f); err != nil {
			c.fail(fmt.Errorf("cannot read a frame: %w", err))
			return
		}
		if f.Kind != "resp" {
			if c.notify != nil {
				c.notify(f)
			}
			continue
		}
		id, err := strconv.ParseInt(string(f.ReqID), 10, 64)
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if err == nil && ch != nil {
			ch <- f
		}
	}
}

// fail closes the connection for err, once.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return
	default:
	}
	c.err = err
	close(c.done)
	c.ws.CloseNow()
}

// Close closes the connection.
func (c *Conn) Close() {
	c.fail(ErrClosed)
	c.cancel()
}

// Done is closed once the connection has closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection closed, nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// request is a request frame as a client writes it.
type request struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id"`
	Type string `json:"type"`
	Body any    `json:"body"`
}

// Request sends a request of type typ with body and returns its response.
// A response whose code is not 2xx is a *StatusError; a connection that
// closes first is ErrClosed.
func (c *Conn) Request(ctx context.Context, typ string, body any) (Frame, error) {
	ch := make(chan Frame, 1)
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		return Frame{}, fmt.Errorf("%s: %w (%v)", typ, ErrClosed, c.err)
	default:
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	b, err := json.Marshal(request{Kind: "req", ID: id, Type: typ, Body: body})
	if err != nil {
		return Frame{}, err
	}
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		if ctx.Err() == nil {
			c.fail(err)
		}
		return Frame{}, fmt.Errorf("%s: %w (%v)", typ, ErrClosed, err)
	}
	select {
	case f := <-ch:
		if f.Code/100 != 2 {
			return f, &StatusError{Type: typ, Code: f.Code, Body: string(f.Body)}
		}
		return f, nil
	case <-c.done:
		return Frame{}, fmt.Errorf("%s: %w (%v)", typ, ErrClosed, c.Err())
	case <-ctx.Done():
		return Frame{}, fmt.Errorf("%s: %w", typ, ctx.Err())
	}
}

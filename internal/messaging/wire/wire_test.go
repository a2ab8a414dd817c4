package wire

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestParseKeeps checks what Parse keeps of a request besides its body
// (fuzz_test.go's TestParse checks what it refuses).
func TestParseKeeps(t *testing.T) {
	f, err := Parse([]byte(`{"kind":"req","id":"a","type":"x","body":"cons-1","headers":null,"metadata":[{"type":"ExternalId"}],"encodedMetadata":"e"}`))
	if err != nil || string(f.Body) != `"cons-1"` || Present(f.Headers) || !Present(f.Metadata) || string(f.Metadata) != `[{"type":"ExternalId"}]` ||
		string(f.EncodedMetadata) != `"e"` {
		t.Errorf("Parse kept body %s headers %s metadata %s encodedMetadata %s, %v", f.Body, f.Headers, f.Metadata, f.EncodedMetadata, err)
	}
	_, err = Parse([]byte(`{"kind":"req","id":"a","type":"` + strings.Repeat("t", MaxTypeLen+1) + `"}`))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "type" {
		t.Errorf("a type of %d bytes: %v, want an error naming type", MaxTypeLen+1, err)
	}
}

func TestEncodeBody(t *testing.T) {
	var nilMap map[string]int
	var nilPtr *struct{ A int }
	tests := []struct {
		body any
		want string
	}{
		{nil, `{}`},
		{[]int(nil), `[]`},
		{[]int{}, `[]`},
		{nilMap, `{}`},
		{nilPtr, `{}`},
		{"OK", `"OK"`},
		{map[string]any{"a": []int(nil)}, `{"a":null}`}, // only the body itself is replaced
	}
	for _, tt := range tests {
		b, err := EncodeBody(tt.body)
		if err != nil || string(b) != tt.want {
			t.Errorf("EncodeBody(%#v) = %s, %v; want %s", tt.body, b, err, tt.want)
		}
	}
	if ResponseType(".GetClock") != ".GetClock$Response" || ResponseType("") != "" || ResponseType(strings.Repeat("x", MaxTypeLen+1)) != "" {
		t.Error("ResponseType")
	}
}

// echo answers each request with what the test asks for in its type.
type echo struct{}

func (echo) Request(ctx context.Context, c *Conn, req Frame) {
	switch req.Type {
	case "nil-slice":
		c.Reply(req, 200, []string(nil))
	case "nil":
		c.Reply(req, 200, nil)
	case "error":
		c.Error(req, 404, Errorf("body.dialogId", "no such dialog"))
	case "metadata":
		c.Reply(req, 200, map[string]json.RawMessage{"metadata": req.Metadata, "headers": req.Headers})
	case "notify":
		c.Notify(".n", []int(nil))
	case "close":
		c.CloseWith(4401, "token expired")
	}
}

func (echo) Closed() {}

func TestServe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Serve(w, r, Options{}, func(*Conn) Handler { return echo{} })
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "" {
		t.Errorf("subprotocol %q answered, none asked", p)
	}
	roundTrip := func(req string) map[string]json.RawMessage {
		t.Helper()
		if err := ws.Write(ctx, websocket.MessageText, []byte(req)); err != nil {
			t.Fatal(err)
		}
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var f map[string]json.RawMessage
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		req                    string
		kind, reqID, typ, code string
		body                   string
	}{
		{`{"kind":"req","id":"1","type":"nil-slice","body":{}}`, `"resp"`, `"1"`, `"nil-slice$Response"`, `200`, `[]`},
		{`{"kind":"req","id":2,"type":"nil"}`, `"resp"`, `2`, `"nil$Response"`, `200`, `{}`},
		{`{"kind":"req","id":"3","type":"error"}`, `"resp"`, `"3"`, `"error$Response"`, `404`, `{"field":"body.dialogId","msg":"body.dialogId: no such dialog"}`},
		{`{"kind":"req","id":"4","type":"metadata","headers":null,"metadata":[{"type":"ExternalId","id":"X"}]}`, `"resp"`, `"4"`, `"metadata$Response"`, `200`,
			`{"headers":null,"metadata":[{"type":"ExternalId","id":"X"}]}`},
		{`{"kind":"req","id":"5"}`, `"resp"`, `"5"`, ``, `400`, `{"field":"type","msg":"type: required"}`},
		{`{"kind":"req","id":"6","type":"notify"}`, `"notification"`, ``, `".n"`, ``, `[]`},
	}
	for _, tt := range tests {
		f := roundTrip(tt.req)
		for _, c := range []struct{ name, got, want string }{
			{"kind", string(f["kind"]), tt.kind}, {"reqId", string(f["reqId"]), tt.reqID}, {"type", string(f["type"]), tt.typ},
			{"code", string(f["code"]), tt.code}, {"body", string(f["body"]), tt.body},
		} {
			if c.got != c.want {
				t.Errorf("%s: %s %s, want %s", tt.req, c.name, c.got, c.want)
			}
		}
	}
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"kind":"req","id":"7","type":"close"}`)); err != nil {
		t.Fatal(err)
	}
	_, _, err = ws.Read(ctx)
	if code := websocket.CloseStatus(err); code != 4401 {
		t.Errorf("close: %v, want status 4401", err)
	}
}

// flood sends, on a request of type flood, n numbered notifications of
// 4 KiB at once, and hands the connection to conns.
type flood struct {
	n     int
	conns chan *Conn
}

func (f flood) Request(ctx context.Context, c *Conn, req Frame) {
	f.conns <- c
	pad := strings.Repeat("x", 4<<10)
	for i := range f.n {
		c.Notify("n", map[string]any{"i": i, "pad": pad})
	}
}

func (flood) Closed() {}

// TestQueue checks that a connection writes its frames in order, and that
// one whose client reads too slowly for QueueFrames frames to wait is
// closed.
func TestQueue(t *testing.T) {
	for _, tt := range []struct {
		name   string
		n      int
		closed bool
	}{
		{"read", 3 * QueueFrames, false},
		{"not read", 8 * QueueFrames, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := flood{n: tt.n, conns: make(chan *Conn, 1)}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				Serve(w, r, Options{}, func(*Conn) Handler { return f })
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			ws.SetReadLimit(1 << 20)
			if err := ws.Write(ctx, websocket.MessageText, []byte(`{"kind":"req","id":1,"type":"flood"}`)); err != nil {
				t.Fatal(err)
			}
			c := <-f.conns
			if tt.closed {
				select {
				case <-c.Done():
				case <-time.After(10 * time.Second):
					t.Fatalf("a client that read none of %d frames of 4 KiB was not closed", tt.n)
				}
			}
			// What the client reads comes in order, all of it unless
			// the connection was closed.
			read := 0
			for ; read < tt.n; read++ {
				_, b, err := ws.Read(ctx)
				if err != nil {
					if !tt.closed {
						t.Fatalf("read %d frames, then %v", read, err)
					}
					break
				}
				var n struct{ Body struct{ I int } }
				if err := json.Unmarshal(b, &n); err != nil || n.Body.I != read {
					t.Fatalf("frame %d: %.60s (%v)", read, b, err)
				}
			}
			if tt.closed && read == tt.n {
				t.Errorf("the closed connection wrote all %d frames", tt.n)
			}
		})
	}
}

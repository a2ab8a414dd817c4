package event

// RecordHead is the beginning of a stored record: who and when, enough to
// deduplicate or route an event without parsing its data.
type RecordHead struct {
	ID, AccountID, VisitorID, VisitID string
	Time, ServerTime                  int64
}

// ParseRecordHead reads the head of a record written by AppendRecord. It
// relies on the order AppendRecord writes properties in and reads strings
// without escapes directly, several times faster than ParseRecord, with
// one allocation; a record it cannot read so (an escaped string, another
// order) it hands to ParseRecord.
func ParseRecordHead(b []byte) (RecordHead, error) {
	var h RecordHead
	var spans [8][2]int
	c := headCursor{b: b}
	if c.head(&spans, &h.Time, &h.ServerTime) {
		head := string(b[:spans[3][1]]) // one allocation for the four strings
		h.ID, h.AccountID = head[spans[0][0]:spans[0][1]], head[spans[1][0]:spans[1][1]]
		h.VisitorID, h.VisitID = head[spans[2][0]:spans[2][1]], head[spans[3][0]:spans[3][1]]
		return h, nil
	}
	s, err := ParseRecord(b)
	if err != nil {
		return h, err
	}
	return RecordHead{ID: s.ID, AccountID: s.AccountID, VisitorID: s.VisitorID, VisitID: s.VisitID,
		Time: s.Time, ServerTime: s.ServerTime}, nil
}

// headCursor reads the properties of a record's head in order.
type headCursor struct {
	b   []byte
	pos int
}

// head reads the properties of the head, id to serverTime: the spans of
// the four strings in spans[0:4], the times in tm and st.
func (c *headCursor) head(spans *[8][2]int, tm, st *int64) bool {
	return c.str(`{"id":`, &spans[0]) && c.str(`,"accountId":`, &spans[1]) &&
		c.str(`,"visitorId":`, &spans[2]) && c.str(`,"visitId":`, &spans[3]) &&
		c.int(`,"time":`, tm) && c.int(`,"serverTime":`, st)
}

// key consumes the literal k.
func (c *headCursor) key(k string) bool {
	if len(c.b)-c.pos < len(k) || string(c.b[c.pos:c.pos+len(k)]) != k {
		return false
	}
	c.pos += len(k)
	return true
}

// str reads property k, a string without escapes, and sets span to where
// its characters are in the record.
func (c *headCursor) str(k string, span *[2]int) bool {
	if !c.key(k) || c.pos >= len(c.b) || c.b[c.pos] != '"' {
		return false
	}
	start := c.pos + 1
	for i := start; i < len(c.b); i++ {
		switch c.b[i] {
		case '"':
			*span, c.pos = [2]int{start, i}, i+1
			return true
		case '\\':
			return false
		}
	}
	return false
}

// int reads property k, an integer of at most 18 digits, into dst.
func (c *headCursor) int(k string, dst *int64) bool {
	if !c.key(k) {
		return false
	}
	neg := c.pos < len(c.b) && c.b[c.pos] == '-'
	if neg {
		c.pos++
	}
	var n int64
	digits := 0
	for ; c.pos < len(c.b) && c.b[c.pos] >= '0' && c.b[c.pos] <= '9'; c.pos++ {
		n = n*10 + int64(c.b[c.pos]-'0')
		digits++
	}
	if digits == 0 || digits > 18 || digits > 1 && c.b[c.pos-digits] == '0' {
		return false // let ParseRecord judge what this quick reader does not
	}
	if neg {
		n = -n
	}
	*dst = n
	return true
}

// ParseRecordView reads a record written by AppendRecord without copying
// anything: the strings and Data of the Stored it returns share b's memory
// and are valid only as long as b is unchanged. Like ParseRecordHead it
// relies on AppendRecord's order and reads strings without escapes
// directly; Data is taken as written, not checked. A record it cannot read
// so it hands to ParseRecord (whose result is a copy).
func ParseRecordView(b []byte) (Stored, error) {
	var s Stored
	var spans [8][2]int
	c := headCursor{b: b}
	if c.head(&spans, &s.Time, &s.ServerTime) && c.str(`,"ip":`, &spans[4]) && c.str(`,"userAgent":`, &spans[5]) &&
		c.str(`,"appName":`, &spans[6]) && c.str(`,"eventName":`, &spans[7]) &&
		c.key(`,"data":`) && c.pos < len(b)-1 && b[c.pos] == '{' && b[len(b)-1] == '}' {
		view := func(i int) string { return bytesString(b[spans[i][0]:spans[i][1]]) }
		s.ID, s.AccountID, s.VisitorID, s.VisitID = view(0), view(1), view(2), view(3)
		s.IP, s.UserAgent, s.AppName, s.EventName = view(4), view(5), view(6), view(7)
		s.Data = b[c.pos : len(b)-1 : len(b)-1]
		return s, nil
	}
	return ParseRecord(b)
}

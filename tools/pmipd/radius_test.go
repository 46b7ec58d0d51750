package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 2865 §7.1, "User Telnet to Specified Host": user nemo, password arctangent, secret
// xyzzy5461, NAS 192.168.1.16 port 3.
const (
	rfcRequest = `01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
	              98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d
	              93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8
	              01 10 05 06 00 00 00 03`
	rfcAccept = `02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf
	             9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00
	             0e 06 c0 a8 01 03`
)

func TestRadiusRFC2865Example(t *testing.T) {
	secret := []byte("xyzzy5461")
	var auth [16]byte
	copy(auth[:], unhex(t, "0f403f94739780 57bd83d5cb98f4227a"))
	got := radEncode(radAccessRequest, 0, auth, []radAttr{
		{attrUserName, []byte("nemo")},
		{attrUserPassword, hidePassword([]byte("arctangent"), secret, auth)},
		{attrNASIPAddress, []byte{192, 168, 1, 16}},
		{attrNASPort, []byte{0, 0, 0, 3}},
	})
	if want := unhex(t, rfcRequest); !bytes.Equal(got, want) {
		t.Fatalf("Access-Request\n got %x\nwant %x", got, want)
	}
	accept := unhex(t, rfcAccept)
	if err := verifyResponse(accept, 0, auth, secret); err != nil {
		t.Fatal(err)
	}
	if r, err := parseResponse(accept); err != nil || !r.Accept {
		t.Fatal(r, err)
	}
	if verifyResponse(accept, 0, auth, []byte("wrong")) == nil {
		t.Fatal("a wrong secret verified")
	}
	accept[len(accept)-1] ^= 1
	if verifyResponse(accept, 0, auth, secret) == nil {
		t.Fatal("a changed reply verified")
	}
}

// fakeRadius answers Access-Requests like FreeRADIUS with the lab's users file would: it
// checks the request's Message-Authenticator and password, and answers with a
// Message-Authenticator first (as FreeRADIUS 3.2 does).
type fakeRadius struct {
	conn     *net.UDPConn
	secret   []byte
	users    map[string]string       // user -> password
	prefixes map[string]netip.Prefix // user -> Framed-IPv6-Prefix
	drop     atomic.Int32            // requests to ignore (retransmission test)
	seen     atomic.Int32
	lastReq  atomic.Value // []radAttr
}

func newFakeRadius(t testing.TB, addr string, secret string) *fakeRadius {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRadius{conn: pc.(*net.UDPConn), secret: []byte(secret), users: map[string]string{}, prefixes: map[string]netip.Prefix{}}
	t.Cleanup(func() { f.conn.Close() })
	go f.serve()
	return f
}

func (f *fakeRadius) serve() {
	buf := make([]byte, 4096)
	for {
		n, from, err := f.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		f.seen.Add(1)
		if f.drop.Load() > 0 {
			f.drop.Add(-1)
			continue
		}
		req := append([]byte(nil), buf[:n]...)
		if r := f.answer(req); r != nil {
			f.conn.WriteToUDP(r, from)
		}
	}
}

func (f *fakeRadius) answer(req []byte) []byte {
	var auth [16]byte
	copy(auth[:], req[4:20])
	attrs, err := radAttrs(req)
	if err != nil {
		return nil
	}
	f.lastReq.Store(attrs)
	var user string
	var hidden, ma []byte
	for _, a := range attrs {
		switch a.Type {
		case attrUserName:
			user = string(a.Value)
		case attrUserPassword:
			hidden = a.Value
		case attrMessageAuth:
			ma = a.Value
		}
	}
	if want, _ := messageAuthenticator(req, f.secret, auth); ma == nil || !bytes.Equal(want, ma) {
		return nil // FreeRADIUS 3.2 drops it
	}
	// Unhide: XOR is its own inverse, chaining on the ciphertext.
	pw := make([]byte, len(hidden))
	prev := auth[:]
	for i := 0; i < len(hidden); i += 16 {
		h := md5.Sum(append(append([]byte(nil), f.secret...), prev...))
		for j := 0; j < 16; j++ {
			pw[i+j] = hidden[i+j] ^ h[j]
		}
		prev = hidden[i : i+16]
	}
	code := byte(radAccessReject)
	out := []radAttr{{attrMessageAuth, make([]byte, 16)}}
	if want, ok := f.users[user]; ok && string(bytes.TrimRight(pw, "\x00")) == want {
		code = radAccessAccept
		if p, ok := f.prefixes[user]; ok {
			a := p.Addr().As16()
			out = append(out, radAttr{attrFramedIPv6Prefix, append([]byte{0, byte(p.Bits())}, a[:8]...)},
				radAttr{attrFramedInterfaceID, []byte{0, 0, 0, 0, 0, 0, 0, 1}})
		}
	}
	resp := radEncode(code, req[1], auth, out) // authenticator field = request's, for now
	m, _ := messageAuthenticator(resp, f.secret, auth)
	copy(resp[22:38], m)
	h := md5.New()
	h.Write(resp)
	h.Write(f.secret)
	copy(resp[4:20], h.Sum(nil))
	return resp
}

func (f *fakeRadius) addr() string { return f.conn.LocalAddr().String() }

func TestRadiusClient(t *testing.T) {
	srv := newFakeRadius(t, "[::1]:0", "s3cret")
	srv.users["000000163e010101"] = "mnpass"
	srv.prefixes["000000163e010101"] = testHNP
	srv.users["mag1"] = "wrong-for-test"
	c := &RadiusClient{Server: srv.addr(), Secret: []byte("s3cret"), NASID: "mag1", Timeout: 200 * time.Millisecond, Retries: 3}
	if err := c.Open(netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	r, err := c.Authenticate("000000163e010101", []byte("mnpass"))
	if err != nil || !r.Accept || r.Prefix != testHNP || !bytes.Equal(r.InterfaceID, []byte{0, 0, 0, 0, 0, 0, 0, 1}) {
		t.Fatalf("accept: %+v %v", r, err)
	}
	attrs := srv.lastReq.Load().([]radAttr)
	var types []byte
	for _, a := range attrs {
		types = append(types, a.Type)
		switch a.Type {
		case attrServiceType:
			if !bytes.Equal(a.Value, []byte{0, 0, 0, 8}) {
				t.Errorf("Service-Type %x", a.Value)
			}
		case attrNASIPv6Address:
			if netip.AddrFrom16([16]byte(a.Value)) != netip.MustParseAddr("::1") {
				t.Errorf("NAS-IPv6-Address %x", a.Value)
			}
		case attrNASIdentifier:
			if string(a.Value) != "mag1" {
				t.Errorf("NAS-Identifier %q", a.Value)
			}
		}
	}
	if !bytes.Equal(types, []byte{attrUserName, attrUserPassword, attrServiceType, attrNASIdentifier, attrNASIPv6Address, attrMessageAuth}) {
		t.Errorf("attributes %v", types)
	}

	if r, err := c.Authenticate("mag1", []byte("nope")); err != nil || r.Accept {
		t.Fatalf("reject: %+v %v", r, err)
	}

	// Two lost requests: the third transmission is answered.
	srv.drop.Store(2)
	srv.seen.Store(0)
	start := time.Now()
	if r, err := c.Authenticate("000000163e010101", []byte("mnpass")); err != nil || !r.Accept {
		t.Fatalf("after retransmission: %+v %v", r, err)
	}
	if srv.seen.Load() != 3 || time.Since(start) < 400*time.Millisecond {
		t.Fatalf("%d transmissions in %v", srv.seen.Load(), time.Since(start))
	}

	// Wrong shared secret: replies do not verify, so it gives up after Retries.
	bad := &RadiusClient{Server: srv.addr(), Secret: []byte("other"), NASID: "x", Timeout: 100 * time.Millisecond, Retries: 2}
	bad.Open(netip.Addr{})
	defer bad.Close()
	srv.users["u"] = "p"
	if _, err := bad.Authenticate("u", []byte("p")); err == nil {
		t.Fatal("a wrong secret authenticated")
	}
}

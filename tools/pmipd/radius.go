package main

// A small RADIUS client (RFC 2865) for Access-Request/Accept/Reject, with the
// Message-Authenticator of RFC 3579 §3.2 that FreeRADIUS 3.2 requires.

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

const (
	radAccessRequest = 1
	radAccessAccept  = 2
	radAccessReject  = 3

	attrUserName          = 1
	attrUserPassword      = 2
	attrNASIPAddress      = 4
	attrNASPort           = 5
	attrServiceType       = 6
	attrNASIdentifier     = 32
	attrMessageAuth       = 80
	attrNASIPv6Address    = 95
	attrFramedInterfaceID = 96
	attrFramedIPv6Prefix  = 97

	serviceAuthenticateOnly = 8
)

type radAttr struct {
	Type  byte
	Value []byte
}

// radEncode lays out a RADIUS packet: Code, Identifier, Length, Authenticator, attributes.
func radEncode(code, id byte, auth [16]byte, attrs []radAttr) []byte {
	b := []byte{code, id, 0, 0}
	b = append(b, auth[:]...)
	for _, a := range attrs {
		b = append(b, a.Type, byte(2+len(a.Value)))
		b = append(b, a.Value...)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// radAttrs splits the attributes of a packet.
func radAttrs(p []byte) ([]radAttr, error) {
	var out []radAttr
	for i := 20; i < len(p); {
		if i+2 > len(p) || p[i+1] < 2 || i+int(p[i+1]) > len(p) {
			return nil, errors.New("radius: malformed attribute")
		}
		out = append(out, radAttr{p[i], p[i+2 : i+int(p[i+1])]})
		i += int(p[i+1])
	}
	return out, nil
}

// hidePassword is RFC 2865 §5.2: the password, padded with NULs to 16n octets, XORed with
// MD5(secret + authenticator), then MD5(secret + previous block).
func hidePassword(pw, secret []byte, auth [16]byte) []byte {
	p := append([]byte(nil), pw...)
	for len(p) == 0 || len(p)%16 != 0 {
		p = append(p, 0)
	}
	prev := auth[:]
	for i := 0; i < len(p); i += 16 {
		h := md5.Sum(append(append([]byte(nil), secret...), prev...))
		for j := 0; j < 16; j++ {
			p[i+j] ^= h[j]
		}
		prev = p[i : i+16]
	}
	return p
}

// messageAuthenticator is HMAC-MD5 over the packet with the attribute's value zeroed and,
// for a response, the request's authenticator in place of its own (RFC 3579 §3.2).
func messageAuthenticator(p, secret []byte, auth [16]byte) ([]byte, bool) {
	q := append([]byte(nil), p...)
	copy(q[4:20], auth[:])
	found := false
	for i := 20; i+2 <= len(q) && q[i+1] >= 2; i += int(q[i+1]) {
		if q[i] == attrMessageAuth && q[i+1] == 18 {
			clear(q[i+2 : i+18])
			found = true
		}
	}
	m := hmac.New(md5.New, secret)
	m.Write(q)
	return m.Sum(nil), found
}

// RadiusClient sends Access-Requests to one server over one UDP socket, opened by Open
// (so that it lives in the network namespace of whoever opened it), one request at a time.
type RadiusClient struct {
	Server  string // host:port, IPv6 in brackets
	Secret  []byte
	NASID   string
	NASIPv6 netip.Addr // default: the socket's local address, when IPv6
	Timeout time.Duration
	Retries int

	mu   sync.Mutex
	conn *net.UDPConn
	id   byte
}

// Open connects the socket, from local if it is valid (the MAG's egress address, which the
// AAA knows it by).
func (c *RadiusClient) Open(local netip.Addr) error {
	raddr, err := net.ResolveUDPAddr("udp", c.Server)
	if err != nil {
		return err
	}
	var laddr *net.UDPAddr
	if local.IsValid() {
		laddr = &net.UDPAddr{IP: local.AsSlice()}
	}
	if c.conn, err = net.DialUDP("udp", laddr, raddr); err != nil {
		return err
	}
	if a, ok := netip.AddrFromSlice(c.conn.LocalAddr().(*net.UDPAddr).IP); ok && !c.NASIPv6.IsValid() {
		if a = a.Unmap(); a.Is6() && !a.IsUnspecified() {
			c.NASIPv6 = a
		}
	}
	var b [1]byte
	rand.Read(b[:])
	c.id = b[0]
	return nil
}

func (c *RadiusClient) Close() {
	if c.conn != nil {
		c.conn.Close()
	}
}

// RadiusResult is what an Access-Accept said.
type RadiusResult struct {
	Accept      bool
	Prefix      netip.Prefix // Framed-IPv6-Prefix
	InterfaceID []byte       // Framed-Interface-Id
}

// buildRequest makes an Access-Request for user and returns it with its authenticator.
func (c *RadiusClient) buildRequest(id byte, user string, password []byte) ([]byte, [16]byte) {
	var auth [16]byte
	rand.Read(auth[:])
	attrs := []radAttr{
		{attrUserName, []byte(user)},
		{attrUserPassword, hidePassword(password, c.Secret, auth)},
		{attrServiceType, binary.BigEndian.AppendUint32(nil, serviceAuthenticateOnly)},
		{attrNASIdentifier, []byte(c.NASID)},
	}
	if c.NASIPv6.IsValid() {
		a := c.NASIPv6.As16()
		attrs = append(attrs, radAttr{attrNASIPv6Address, a[:]})
	}
	attrs = append(attrs, radAttr{attrMessageAuth, make([]byte, 16)})
	p := radEncode(radAccessRequest, id, auth, attrs)
	ma, _ := messageAuthenticator(p, c.Secret, auth)
	copy(p[len(p)-16:], ma) // Message-Authenticator is the last attribute
	return p, auth
}

// verifyResponse checks a reply against the request: identifier, Response Authenticator
// (MD5(Code+ID+Length+RequestAuth+Attributes+Secret)) and, if present, Message-Authenticator.
func verifyResponse(resp []byte, id byte, reqAuth [16]byte, secret []byte) error {
	if len(resp) < 20 || int(binary.BigEndian.Uint16(resp[2:])) > len(resp) {
		return errors.New("radius: short reply")
	}
	resp = resp[:binary.BigEndian.Uint16(resp[2:])]
	if resp[1] != id {
		return fmt.Errorf("radius: reply for identifier %d, want %d", resp[1], id)
	}
	h := md5.New()
	h.Write(resp[:4])
	h.Write(reqAuth[:])
	h.Write(resp[20:])
	h.Write(secret)
	if !bytes.Equal(h.Sum(nil), resp[4:20]) {
		return errors.New("radius: bad Response Authenticator (wrong shared secret?)")
	}
	attrs, err := radAttrs(resp)
	if err != nil {
		return err
	}
	for _, a := range attrs {
		if a.Type == attrMessageAuth {
			want, _ := messageAuthenticator(resp, secret, reqAuth)
			if !hmac.Equal(want, a.Value) {
				return errors.New("radius: bad Message-Authenticator")
			}
		}
	}
	return nil
}

// parseResponse reads an Access-Accept or Access-Reject that verifyResponse accepted.
func parseResponse(resp []byte) (RadiusResult, error) {
	var r RadiusResult
	switch resp[0] {
	case radAccessAccept:
		r.Accept = true
	case radAccessReject:
		return r, nil
	default:
		return r, fmt.Errorf("radius: unexpected code %d", resp[0])
	}
	attrs, err := radAttrs(resp[:binary.BigEndian.Uint16(resp[2:])])
	if err != nil {
		return r, err
	}
	for _, a := range attrs {
		switch a.Type {
		case attrFramedIPv6Prefix: // Reserved, Prefix-Length, Prefix (0..16 octets)
			if len(a.Value) >= 2 && a.Value[1] <= 128 && len(a.Value)-2 <= 16 {
				var b [16]byte
				copy(b[:], a.Value[2:])
				r.Prefix, _ = netip.AddrFrom16(b).Prefix(int(a.Value[1]))
			}
		case attrFramedInterfaceID:
			r.InterfaceID = append([]byte(nil), a.Value...)
		}
	}
	return r, nil
}

// Authenticate sends an Access-Request and waits for a verified reply, sending the same
// packet again every Timeout, Retries times in all.
func (c *RadiusClient) Authenticate(user string, password []byte) (RadiusResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return RadiusResult{}, errors.New("radius: client not open")
	}
	c.id++
	id := c.id
	req, auth := c.buildRequest(id, user, password)
	tries := max(c.Retries, 1)
	buf := make([]byte, 4096)
	var lastErr error
	for try := 0; try < tries; try++ {
		if _, err := c.conn.Write(req); err != nil {
			return RadiusResult{}, err
		}
		deadline := time.Now().Add(c.Timeout)
		for {
			c.conn.SetReadDeadline(deadline)
			n, err := c.conn.Read(buf)
			if err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					// e.g. ICMP port unreachable: wait out the timeout, then send again.
					lastErr = err
					time.Sleep(time.Until(deadline))
				}
				break
			}
			if err := verifyResponse(buf[:n], id, auth, c.Secret); err != nil {
				lastErr = err // a late reply to an earlier request, or a wrong secret
				continue
			}
			return parseResponse(buf[:n])
		}
	}
	if lastErr != nil {
		return RadiusResult{}, fmt.Errorf("radius: no valid reply from %s after %d tries (last: %v)", c.Server, tries, lastErr)
	}
	return RadiusResult{}, fmt.Errorf("radius: no reply from %s after %d tries", c.Server, tries)
}

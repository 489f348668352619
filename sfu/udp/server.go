// Package udp is Discord's UDP voice transport, which the bot libraries
// speak instead of WebRTC (spec/voice.md, "UDP voice"): a client learns
// its address by IP discovery, selects an encryption mode over the voice
// gateway, and then sends and receives RTP sealed with the key the server
// gave it. One socket serves every connection; a connection is known by
// the SSRC the server gave it and the address its IP discovery came
// from. A connection is a channel.Receiver for the audio it is sent, and
// publishes what it receives as one media.Track, the user's microphone,
// so the forwarding path has no case for it. Only the sfu packages
// import it.
package udp

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"sync"

	"concord/sfu/media"
)

// Server is the socket every UDP voice connection shares.
type Server struct {
	conn *net.UDPConn

	mu     sync.Mutex
	bySSRC map[uint32]*Conn
	closed bool
	wg     sync.WaitGroup
}

// Listen opens the socket on addr (host:port; port 0 picks one).
func Listen(addr string) (*Server, error) {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", a)
	if err != nil {
		return nil, err
	}
	s := &Server{conn: c, bySSRC: map[uint32]*Conn{}}
	s.wg.Add(1)
	go s.read()
	return s, nil
}

// Port is the socket's UDP port.
func (s *Server) Port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// Close ends every connection and the socket.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*Conn, 0, len(s.bySSRC))
	for _, c := range s.bySSRC {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	err := s.conn.Close()
	s.wg.Wait()
	return err
}

var errClosed = errors.New("udp voice server closed")

// NewConn makes a connection for owner, known by a fresh SSRC until it
// closes; publish hears of the track the client starts sending, from the
// socket's goroutine, and must not block.
func (s *Server) NewConn(owner uint64, publish func(*Track)) (*Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	c := &Conn{srv: s, owner: owner, publish: publish, sinks: map[media.Track]*sink{}}
	for c.ssrc == 0 || s.bySSRC[c.ssrc] != nil {
		c.ssrc = randomSSRC()
	}
	s.bySSRC[c.ssrc] = c
	return c, nil
}

func randomSSRC() uint32 {
	var b [4]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

func (s *Server) forget(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bySSRC[c.ssrc] == c {
		delete(s.bySSRC, c.ssrc)
	}
}

func (s *Server) lookup(ssrc uint32) *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bySSRC[ssrc]
}

// read takes every datagram: IP discovery requests, and RTP from the
// connections. Anything else, or from an address a connection is not
// bound to and that does not authenticate, is dropped.
func (s *Server) read() {
	defer s.wg.Done()
	buf := make([]byte, maxPacket+1)
	for {
		n, addr, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		s.handle(buf[:n], addr)
	}
}

// handle takes one datagram from addr.
func (s *Server) handle(p []byte, addr *net.UDPAddr) {
	switch n := len(p); {
	case n > maxPacket:
	case n == discoverySize && binary.BigEndian.Uint16(p) == discoveryAsk:
		if c := s.lookup(binary.BigEndian.Uint32(p[4:8])); c != nil && c.bind(addr) {
			s.conn.WriteToUDP(discoveryAnswer(c.ssrc, addr), addr)
		}
	case n >= headerSize && p[0]>>6 == 2:
		if c := s.lookup(binary.BigEndian.Uint32(p[8:12])); c != nil {
			c.receive(p, addr)
		}
	}
}

// discoveryAnswer tells a client the address its request came from: type
// 2, length 70, its SSRC, the address as text (NUL-padded to 64 bytes)
// and the port.
func discoveryAnswer(ssrc uint32, addr *net.UDPAddr) []byte {
	b := make([]byte, discoverySize)
	binary.BigEndian.PutUint16(b, discoveryReply)
	binary.BigEndian.PutUint16(b[2:], discoveryBody)
	binary.BigEndian.PutUint32(b[4:], ssrc)
	copy(b[8:72], addr.IP.String())
	binary.BigEndian.PutUint16(b[72:], uint16(addr.Port))
	return b
}

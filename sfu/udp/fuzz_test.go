package udp

import (
	"encoding/binary"
	"net"
	"testing"
)

// FuzzPacket sends arbitrary datagrams at a server holding a connection
// in each mode, bound and publishing: nothing a client sends may panic
// it, and what does not authenticate is never published.
func FuzzPacket(f *testing.F) {
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	client := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	var published int
	for _, mode := range Modes {
		c, err := s.NewConn(1, func(*Track) { published++ })
		if err != nil {
			f.Fatal(err)
		}
		key, err := c.Select(mode)
		if err != nil {
			f.Fatal(err)
		}
		c.bind(client)
		cr, _ := NewCrypt(mode, &key)
		h := header(false)
		binary.BigEndian.PutUint32(h[8:], c.SSRC())
		f.Add(cr.Seal(nil, h, []byte("opus")))
		h[0] |= extensionBit
		f.Add(cr.Seal(nil, h, []byte{0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0, 'o'}))
		ask := make([]byte, discoverySize)
		binary.BigEndian.PutUint16(ask, discoveryAsk)
		binary.BigEndian.PutUint32(ask[4:], c.SSRC())
		f.Add(ask)
	}
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, p []byte) {
		before := published
		s.handle(p, client)
		if published > before && len(p) < headerSize+1 {
			t.Fatalf("a %d-byte packet published a track", len(p))
		}
	})
}

package sfu

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Limits of one voice gateway connection (spec/voice.md).
const (
	maxFrame   = 320 << 10 // an answer may take 256 KiB (peer.MaxAnswer), more escaped in JSON
	sendQueue  = 256       // frames waiting to be written; more drops the connection
	writeLimit = 10 * time.Second
)

// wsConn is one voice gateway WebSocket: frames are written by its own
// goroutine from a bounded queue, so that nobody waits on a slow client.
type wsConn struct {
	ws      *websocket.Conn
	localIP string  // where the client reached the node: the UDP voice address it is told
	limit   *window // inbound frames; only the reading goroutine uses it
	out     chan []byte
	once    sync.Once
	done    chan struct{}
	wg      sync.WaitGroup
}

func newConn(ws *websocket.Conn) *wsConn {
	ws.SetReadLimit(maxFrame)
	c := &wsConn{ws: ws, out: make(chan []byte, sendQueue), done: make(chan struct{})}
	c.wg.Add(1)
	go c.write()
	return c
}

func (c *wsConn) write() {
	defer c.wg.Done()
	for {
		select {
		case b := <-c.out:
			c.ws.SetWriteDeadline(time.Now().Add(writeLimit))
			if c.ws.WriteMessage(websocket.TextMessage, b) != nil {
				c.ws.Close()
				return
			}
		case <-c.done:
			return
		}
	}
}

// send queues b; a client too slow to take it is disconnected (it may
// resume).
func (c *wsConn) send(b []byte) {
	select {
	case c.out <- b:
	case <-c.done:
	default:
		c.close(closeTimeout, "client too slow")
	}
}

// close sends a close frame after what is queued, if it can, and closes.
// It is safe to call more than once and from any goroutine.
func (c *wsConn) close(code int, reason string) {
	c.once.Do(func() {
		go func() {
			// Flush what is queued, then say why, bounded in time.
			deadline := time.Now().Add(time.Second)
			for len(c.out) > 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			close(c.done)
			c.wg.Wait()
			c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
			c.ws.Close()
		}()
	})
}

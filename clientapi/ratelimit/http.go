package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// KeyFunc names the caller a request is counted against; ok false lets the
// request through uncounted (e.g. no caller resolved yet).
type KeyFunc func(r *http.Request) (key string, ok bool)

// Middleware counts each request against keyOf(r) and refuses it with 429
// when the key's window is spent. bucket names the limit in the opaque
// X-RateLimit-Bucket header.
func (l *Limiter) Middleware(bucket string, keyOf KeyFunc) func(http.Handler) http.Handler {
	sum := sha256.Sum256([]byte(bucket))
	bucketID := hex.EncodeToString(sum[:8])
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, ok := keyOf(r)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			res := l.Allow(key)
			WriteHeaders(w, res, bucketID)
			if !res.Allowed {
				WriteTooMany(w, res.ResetAfter)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// WriteHeaders sets Discord's X-RateLimit-* headers for res.
func WriteHeaders(w http.ResponseWriter, res Result, bucketID string) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(res.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(res.Remaining))
	h.Set("X-RateLimit-Reset", seconds(time.Duration(res.Reset.UnixNano())))
	h.Set("X-RateLimit-Reset-After", seconds(res.ResetAfter))
	h.Set("X-RateLimit-Bucket", bucketID)
}

// WriteTooMany sends Discord's 429: the Retry-After header (whole seconds,
// rounded up, as HTTP wants) and the body whose retry_after is exact.
// Scope "user" says the limit is this caller's own, not the route's.
func WriteTooMany(w http.ResponseWriter, retryAfter time.Duration) {
	h := w.Header()
	h.Set("X-RateLimit-Scope", "user")
	h.Set("Retry-After", strconv.FormatInt(int64((retryAfter+time.Second-1)/time.Second), 10))
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	json.NewEncoder(w).Encode(struct {
		Message    string  `json:"message"`
		RetryAfter float64 `json:"retry_after"`
		Global     bool    `json:"global"`
	}{"You are being rate limited.", retryAfter.Seconds(), false})
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// ClientIP is the key for per-address limits: the peer address of the
// connection (as Proxies.RealIP set it behind a trusted proxy), with IPv6
// addresses cut to their /56: a home connection is commonly handed a /56,
// so a /64 would let one subscriber count as 256 clients.
func ClientIP(r *http.Request) (string, bool) {
	addr, ok := peerAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr, true
	}
	if addr.Is6() {
		p, _ := addr.Prefix(ipv6Bucket)
		return p.String(), true
	}
	return addr.String(), true
}

// ipv6Bucket is how many leading bits of an IPv6 address name one client.
const ipv6Bucket = 56

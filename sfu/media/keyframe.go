package media

import "strings"

// IsKeyframe reports whether an RTP payload of codec (a MIME type such as
// "video/VP8") starts a keyframe: where a receiver can begin decoding.
func IsKeyframe(codec string, payload []byte) bool {
	switch strings.ToLower(codec) {
	case "video/vp8":
		return vp8Keyframe(payload)
	case "video/vp9":
		// Not inter-predicted (P=0), beginning of a frame (B=1).
		return len(payload) > 0 && payload[0]&0x40 == 0 && payload[0]&0x08 != 0
	case "video/h264":
		return h264Keyframe(payload)
	}
	return false
}

// vp8Keyframe reads RFC 7741's payload descriptor, then the VP8 header's
// inverse key frame flag.
func vp8Keyframe(b []byte) bool {
	if len(b) < 1 || b[0]&0x10 == 0 || b[0]&0x07 != 0 {
		return false // not the start of partition 0
	}
	d, ok := parseVP8(b)
	return ok && b[d.header]&0x01 == 0
}

// h264Keyframe looks for an IDR slice or an SPS in a single NAL unit, a
// STAP-A or the first fragment of an FU-A (RFC 6184).
func h264Keyframe(b []byte) bool {
	if len(b) < 1 {
		return false
	}
	key := func(t byte) bool { return t == 5 || t == 7 }
	switch t := b[0] & 0x1f; t {
	case 24: // STAP-A: 16-bit sizes, then units
		for i := 1; i+2 < len(b); {
			size := int(b[i])<<8 | int(b[i+1])
			i += 2
			if size == 0 || i+size > len(b) {
				return false
			}
			if key(b[i] & 0x1f) {
				return true
			}
			i += size
		}
		return false
	case 28: // FU-A
		return len(b) > 1 && b[1]&0x80 != 0 && key(b[1]&0x1f)
	default:
		return key(t)
	}
}

package media

// vp8Desc locates the fields of a VP8 payload descriptor (RFC 7741).
type vp8Desc struct {
	pic     int // the picture ID's offset, -1 when absent
	picBits int // its width: 7 or 15
	tl0     int // TL0PICIDX's offset, -1 when absent
	header  int // where the VP8 payload begins
}

// parseVP8 reads the descriptor at the start of b; ok is false when b is
// too short to hold it and a payload byte.
func parseVP8(b []byte) (d vp8Desc, ok bool) {
	d = vp8Desc{pic: -1, tl0: -1, header: 1}
	if len(b) < 1 {
		return d, false
	}
	if b[0]&0x80 == 0 { // no extension byte
		return d, len(b) > 1
	}
	if len(b) < 2 {
		return d, false
	}
	x, i := b[1], 2
	if x&0x80 != 0 { // I: picture ID, one byte or (M set) two
		if len(b) <= i {
			return d, false
		}
		d.pic, d.picBits = i, 7
		if b[i]&0x80 != 0 {
			d.picBits = 15
			i++
		}
		i++
	}
	if x&0x40 != 0 { // L: TL0PICIDX
		d.tl0 = i
		i++
	}
	if x&0x30 != 0 { // T or K: TID, Y, KEYIDX
		i++
	}
	d.header = i
	return d, len(b) > i
}

// vp8IDs renumbers one sink's VP8 picture IDs and TL0PICIDX so that they
// run on across layer switches and pauses, as its sequence numbers do:
// each layer counts its own, and a receiver (Chrome's reference finder)
// drops frames whose picture ID jumps back.
type vp8IDs struct {
	sync    bool // the next picture ID starts a run
	seen    bool // lastPic and lastTL0 hold what was sent
	picOff  uint16
	tl0Off  uint8
	lastPic uint16 // 15 bits
	lastTL0 uint8
}

// undo holds the bytes rewrite changed, to put back once the sink took
// the packet (the next sink reads the source's numbering).
type undo struct {
	at  [3]int
	was [3]byte
	n   int
}

func (u *undo) set(b []byte, at int, v byte) {
	u.at[u.n], u.was[u.n] = at, b[at]
	u.n++
	b[at] = v
}

func (u *undo) restore(b []byte) {
	for i := range u.n {
		b[u.at[i]] = u.was[i]
	}
}

// rewrite renumbers the descriptor d of payload b in place.
func (v *vp8IDs) rewrite(b []byte, d vp8Desc, u *undo) {
	if d.pic >= 0 {
		var pic uint16
		mask := uint16(0x7f)
		if d.picBits == 15 {
			mask = 0x7fff
			pic = uint16(b[d.pic]&0x7f)<<8 | uint16(b[d.pic+1])
		} else {
			pic = uint16(b[d.pic] & 0x7f)
		}
		if v.sync {
			v.sync = false
			if v.seen {
				v.picOff = v.lastPic + 1 - pic
				if d.tl0 >= 0 {
					v.tl0Off = v.lastTL0 + 1 - b[d.tl0]
				}
			}
		}
		out := (pic + v.picOff) & mask
		if d.picBits == 15 {
			u.set(b, d.pic, 0x80|byte(out>>8))
			u.set(b, d.pic+1, byte(out))
		} else {
			u.set(b, d.pic, byte(out))
		}
		if !v.seen || int16((out-v.lastPic)<<1) > 0 {
			v.lastPic = out
		}
	}
	if d.tl0 >= 0 {
		out := b[d.tl0] + v.tl0Off
		u.set(b, d.tl0, out)
		if !v.seen || int8(out-v.lastTL0) > 0 {
			v.lastTL0 = out
		}
	}
	v.seen = v.seen || d.pic >= 0
}

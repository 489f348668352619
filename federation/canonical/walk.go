package canonical

import "fmt"

// EachMember calls fn for each member of the object obj, in order, with the
// key as written between its quotes (still escaped) and the value's bytes,
// and stops at the first error fn returns. obj must already be canonical
// (checked with Check or produced by this package): EachMember only finds
// the boundaries, it does not validate, so that walking a checked event costs
// a single scan.
func EachMember(obj []byte, fn func(key, value []byte) error) error {
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return &Error{Err: fmt.Errorf("%w: not an object", ErrSyntax)}
	}
	if len(obj) == 2 {
		return nil
	}
	last := len(obj) - 1
	for i := 1; ; {
		if obj[i] != '"' {
			return &Error{Offset: i, Err: fmt.Errorf("%w: expected a key", ErrSyntax)}
		}
		colon := skip(obj, i)
		if colon < 0 || colon >= last || obj[colon] != ':' {
			return &Error{Offset: i, Err: fmt.Errorf("%w: expected ':'", ErrSyntax)}
		}
		end := skip(obj, colon+1)
		if end <= colon+1 || end > last {
			return &Error{Offset: colon + 1, Err: fmt.Errorf("%w: bad value", ErrSyntax)}
		}
		if err := fn(obj[i+1:colon-1], obj[colon+1:end]); err != nil {
			return err
		}
		if end == last {
			return nil
		}
		if obj[end] != ',' {
			return &Error{Offset: end, Err: fmt.Errorf("%w: expected ','", ErrSyntax)}
		}
		i = end + 1
	}
}

// EachElement calls fn for each element of the canonical array arr, under
// the same terms as EachMember.
func EachElement(arr []byte, fn func(value []byte) error) error {
	if len(arr) < 2 || arr[0] != '[' || arr[len(arr)-1] != ']' {
		return &Error{Err: fmt.Errorf("%w: not an array", ErrSyntax)}
	}
	if len(arr) == 2 {
		return nil
	}
	last := len(arr) - 1
	for i := 1; ; {
		end := skip(arr, i)
		if end <= i || end > last {
			return &Error{Offset: i, Err: fmt.Errorf("%w: bad value", ErrSyntax)}
		}
		if err := fn(arr[i:end]); err != nil {
			return err
		}
		if end == last {
			return nil
		}
		if arr[end] != ',' {
			return &Error{Offset: end, Err: fmt.Errorf("%w: expected ','", ErrSyntax)}
		}
		i = end + 1
	}
}

// skip returns the offset just past the canonical value starting at b[i], or
// -1 if the input ends first.
func skip(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default:
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ':' {
			i++
		}
		return i
	}
}

func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

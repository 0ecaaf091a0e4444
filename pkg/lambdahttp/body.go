package lambdahttp

import "io"

// ReadBody reads r to the end into a buffer sized from contentLength when
// that is known and at most limit, so the usual body is read with one
// allocation instead of io.ReadAll's doubling from 512 bytes. It reads at
// most limit+1 bytes: a caller tells an oversized body by its length. The
// local gateway reads request bodies with it, and so does ingest.
func ReadBody(r io.Reader, contentLength, limit int64) ([]byte, error) {
	size := int64(512)
	if contentLength > 0 && contentLength <= limit {
		size = contentLength + 1 // room for the Read that reports EOF
	}
	src := io.LimitReader(r, limit+1)
	b := make([]byte, 0, size)
	for {
		n, err := src.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

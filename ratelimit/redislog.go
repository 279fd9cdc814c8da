package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// LogRedisTo sends go-redis's own messages (failed dials, dropped
// connections) to logger at debug level, in its format, instead of go-redis
// printing them to stderr unstructured. They are debug, not warnings: an
// outage is reported once by the limiter, and go-redis would repeat it on
// every probe.
//
// go-redis (v9.23) keeps one logger for the whole process and offers none
// per client, so this sets process-wide state. It is meant to be called once,
// by `ssod serve`, which is the only thing a production process runs; tests
// that run several servers in one process may see a go-redis line in another
// server's log, which is harmless.
func LogRedisTo(logger *slog.Logger) {
	redis.SetLogger(redisLogger{logger})
}

type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	l.log.DebugContext(ctx, msg, "component", "go-redis")
}

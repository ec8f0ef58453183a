package codec_test

import (
	"testing"

	"github.com/parleyrpc/parley/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

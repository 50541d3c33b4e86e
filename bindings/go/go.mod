module github.com/libmacp/libmacp/bindings/go

go 1.19

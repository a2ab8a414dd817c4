module github.com/sightline/sightline

go 1.26.8

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/prometheus/client_golang v1.25.0 // indirect
	github.com/valyala/fastjson v1.6.10 // indirect
)

module inkling.example/stream

go 1.19

module hastack.local/pause

go 1.26

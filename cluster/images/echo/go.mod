module hastack.local/echo

go 1.26

module github.com/moqgo/moqgo

go 1.26

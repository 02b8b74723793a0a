/* t0003-http-head: which writes are one HTTP/1.x response head. */
#include "tap/tap.h"
#include "send.h"

#define S(x) x, sizeof(x) - 1

int main(void)
{
	plan(10);
	ok(send_is_http_head(S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")), "a 200 head");
	ok(send_is_http_head(S("HTTP/1.0 304 Not Modified\r\n\r\n")), "a 1.0 304 head");
	ok(!send_is_http_head(S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")), "head + body is not held");
	ok(!send_is_http_head(S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n")), "an unfinished head");
	ok(!send_is_http_head(S("HTTP/2 200\r\n\r\n")), "not HTTP/1.x");
	ok(!send_is_http_head(S("GET / HTTP/1.1\r\nHost: a\r\n\r\n")), "a request");
	ok(!send_is_http_head(S("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")), "two heads");
	ok(!send_is_http_head(S("HTTP/1.1 600 X\r\n\r\n")), "status out of range");
	ok(!send_is_http_head(S("HTTP/1.1")), "short");
	ok(!send_is_http_head(S("\x16\x03\x01\x02\x00HTTP/1.1 200 OK\r\n\r\n")), "TLS bytes");
	return done_testing();
}

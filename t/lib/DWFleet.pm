package DWFleet;
# The fleet's other servers for t/fleet.t, on loopback (DW_FLEET_NET; default
# 127.15.N where N is the third number of DW_WORLD_NET, 127.15.53 for the
# default world, so that two suites on different worlds never share it): Knot DNS serving a resolver's published RPZ zone with NOTIFY and
# IXFR (TSIG for BIND; Unbound cannot sign, so it is let in by address), and
# BIND 9 named as a third consumer of that zone (response-policy, client-IP
# triggers), recursing through the test world. Everything started here is a
# child of the test and stopped by PID.
use strict;
use warnings;
use File::Path qw(make_path);
use MIME::Base64 qw(encode_base64);
use Net::DNS;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our $NET = $ENV{DW_FLEET_NET}
	|| '127.15.' . ((($ENV{DW_WORLD_NET} // '127.0.53') =~ /^\d+\.\d+\.(\d+)$/) ? $1 : 53);
our $KNOT = "$NET.10";     # the authoritative server
our $PEER_SRC = "127.0.0.1"; # Unbound B's source address for transfers (it binds no outgoing-interface for them)

my @live;

# A fresh TSIG secret (hmac-sha256).
sub tsig_secret {
	open(my $r, '<', '/dev/urandom') or die;
	read($r, my $b, 32) == 32 or die;
	return encode_base64($b, '');
}

sub spew {
	my ($path, $text) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close $fh or die "$path: $!";
}

# Start a child, output to $log; returns its pid.
sub spawn {
	my ($log, @cmd) = @_;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $log) or die;
		open(STDERR, '>&', \*STDOUT) or die;
		exec(@cmd) or die "exec $cmd[0]: $!";
	}
	return $pid;
}

# Wait until $addr answers $zone SOA (NOERROR); returns the serial or undef.
sub wait_soa {
	my ($addr, $zone, $secs, $port) = @_;
	my $res = Net::DNS::Resolver->new(nameservers => [$addr], port => $port // 53, recurse => 0,
		retry => 1, udp_timeout => 1);
	my $deadline = time + ($secs // 10);
	while (time < $deadline) {
		my $p = $res->send($zone, 'SOA');
		if ($p && $p->header->rcode eq 'NOERROR') {
			my ($soa) = grep { $_->type eq 'SOA' } $p->answer;
			return $soa->serial if $soa;
		}
		sleep 0.1;
	}
	return undef;
}

# knot(dir => D, zone => Z, file => F, secret => S, unbound_notify => "127.0.0.1@PORT",
#      named_notify => "127.0.0.1@PORT"): knotd serving F as Z.
sub knot {
	my ($class, %o) = @_;
	my $d = $o{dir};
	make_path("$d/db");
	my @remotes = ("  - id: unbound-b\n    address: $o{unbound_notify}\n    via: $KNOT\n");
	push @remotes, "  - id: named\n    address: $o{named_notify}\n    key: fleet\n    via: $KNOT\n" if $o{named_notify};
	my $notify = $o{named_notify} ? '[unbound-b, named]' : '[unbound-b]';
	spew("$d/knot.conf", <<EOF);
# Knot DNS for the dnswarden fleet test (t/fleet.t)
server:
    rundir: "$d"
    listen: $KNOT\@53
log:
  - target: "$d/knot.log"
    any: info
database:
    storage: "$d/db"
key:
  - id: fleet
    algorithm: hmac-sha256
    secret: $o{secret}
remote:
@{[join '', @remotes]}
acl:
  - id: unbound-peers      # Unbound cannot sign transfers: by address
    address: $PEER_SRC
    action: transfer
  - id: tsig-peers
    key: fleet
    action: transfer
template:
  - id: default
    storage: "$d"
    zonefile-sync: -1           # never write the file: dnswarden owns it
    zonefile-load: difference   # a changed file becomes an IXFR changeset
    journal-content: changes
zone:
  - domain: $o{zone}
    file: "$o{file}"
    notify: $notify
    acl: [unbound-peers, tsig-peers]
EOF
	system("knotc -c '$d/knot.conf' conf-check >/dev/null") == 0 or die "knotc conf-check failed";
	my $self = bless { dir => $d, zone => $o{zone} }, $class;
	$self->{pid} = spawn("$d/knotd.out", 'knotd', '-c', "$d/knot.conf");
	push @live, $self;
	defined wait_soa($KNOT, $o{zone}) or die "knotd did not serve $o{zone}:\n" . `cat $d/knotd.out $d/knot.log`;
	return $self;
}

# The command that tells this Knot the zone file changed.
sub reload_command {
	my ($self) = @_;
	return "/usr/sbin/knotc -s $self->{dir}/knot.sock zone-reload $self->{zone}";
}

sub log_lines {
	my ($self, $re) = @_;
	open(my $fh, '<', $self->{log} // "$self->{dir}/knot.log") or return ();
	return grep { /$re/ } <$fh>;
}

# named(dir => D, zone => Z, secret => S, hints => FILE, port => P): a
# recursive BIND on 127.0.0.1@P (named listens only on addresses of an
# interface) with Z as a response-policy zone, a secondary of Knot.
sub named {
	my ($class, %o) = @_;
	my $d = $o{dir};
	make_path($d);
	(my $z = $o{zone}) =~ s/\.$//;
	spew("$d/named.conf", <<EOF);
// BIND 9 consuming the dnswarden fleet's RPZ zone (t/fleet.t)
options {
	directory "$d";
	pid-file "$d/named.pid";
	session-keyfile "$d/session.key";
	managed-keys-directory "$d";
	listen-on port $o{port} { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion yes;
	allow-recursion { 127.0.0.0/8; };
	dnssec-validation no;
	notify no;
	response-policy { zone "$z"; } qname-wait-recurse no min-update-interval 0;
};
controls { };
key "fleet" { algorithm hmac-sha256; secret "$o{secret}"; };
server $KNOT { keys { fleet; }; };
zone "." { type hint; file "$o{hints}"; };
zone "$z" {
	type secondary;
	primaries { $KNOT key fleet; };
	file "$d/$z.bak";
	allow-notify { key fleet; };
};
logging {
	channel f { file "$d/named.log"; print-time yes; severity info; };
	category default { f; };
	category xfer-in { f; };
	category notify { f; };
	category rpz { f; };
	category lame-servers { null; };
};
EOF
	system('named-checkconf', "$d/named.conf") == 0 or die "named-checkconf failed";
	my $self = bless { dir => $d, log => "$d/named.log", port => $o{port} }, $class;
	$self->{pid} = spawn("$d/named.out", 'named', '-f', '-4', '-c', "$d/named.conf");
	push @live, $self;
	defined wait_soa("127.0.0.1", $o{zone}, 15, $o{port}) or die "named did not load $o{zone}:\n" . `cat $d/named.out $d/named.log`;
	return $self;
}

# "RCODE first-A" of $name from $src asked to $server:$port (recursive).
sub ask {
	my ($server, $port, $src, $name) = @_;
	my $res = Net::DNS::Resolver->new(nameservers => [$server], port => $port, srcaddr => $src,
		recurse => 1, retry => 1, udp_timeout => 2);
	my $p = $res->send($name, 'A') or return 'TIMEOUT';
	my ($rr) = grep { $_->type eq 'A' } $p->answer;
	return $p->header->rcode . ($rr ? ' ' . $rr->address : '');
}

sub pid { $_[0]{pid} }
sub port { $_[0]{port} }

sub stop {
	my ($self) = @_;
	my $pid = delete $self->{pid} or return;
	kill 'TERM', $pid;
	for (1 .. 200) {
		if (waitpid($pid, WNOHANG) == $pid) { @live = grep { $_ != $self } @live; return }
		sleep 0.05;
	}
	kill 'KILL', $pid;
	waitpid($pid, 0);
	@live = grep { $_ != $self } @live;
}

sub alive { my $p = $_[0]{pid}; return $p && kill(0, $p) ? 1 : 0 }

END {
	my $status = $?;
	$_->stop for (my @copy = @live);
	$? = $status;
}

1;

package DWPostfix;
# A real Postfix (Debian's package) for dnswarden's mail-server watch test:
# its own config directory, queue and log under the test's directory,
# listening on one 127.x address, delivering campus.test into maildirs
# (virtual(8)), relaying for a "campus" network, and looking everything up
# in DNS through whatever /etc/resolv.conf says (the test bind-mounts its
# own in a private mount namespace). Everything it starts it stops, by PID.
use strict;
use warnings;
use File::Path qw(make_path);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my @live;

# new(dir => DIR, addr => ADDR, mynetworks => CIDR, users => [names],
#     extra => "main.cf lines")
sub new {
	my ($class, %o) = @_;
	my $d = $o{dir};
	my $self = bless { %o, conf => "$d/etc", log => "$d/maillog" }, $class;
	make_path("$d/etc", "$d/spool", "$d/data", "$d/vmail");
	chmod 0755, $d, "$d/spool";
	my $uid = getpwnam('nobody');
	my $gid = getgrnam('nogroup') // getgrnam('nobody');
	chown $uid, $gid, "$d/vmail";
	chown scalar(getpwnam('postfix')), -1, "$d/data";
	$self->write("$d/etc/vusers", join('', map { "$_\@campus.test $_/\n" } @{ $o{users} }));
	$self->write("$d/etc/main.cf", <<"EOF2" . ($o{extra} // ''));
compatibility_level = 3.6
myhostname = mx.campus.test
mydomain = campus.test
myorigin = campus.test
mydestination =
inet_interfaces = $o{addr}
inet_protocols = ipv4
smtp_bind_address = $o{addr}
mynetworks = $o{mynetworks}
queue_directory = $d/spool
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $d/maillog
maillog_file_prefixes = $d
alias_maps =
alias_database =
virtual_mailbox_domains = campus.test
virtual_mailbox_base = $d/vmail
virtual_mailbox_maps = hash:$d/etc/vusers
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
smtpd_sender_restrictions = reject_unknown_sender_domain
smtpd_relay_restrictions = permit_mynetworks, reject_unknown_recipient_domain, reject_unauth_destination
smtp_host_lookup = dns
smtp_connect_timeout = 2s
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 20s
maximal_queue_lifetime = 25s
bounce_queue_lifetime = 25s
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtputf8_enable = no
biff = no
EOF2
	$self->write("$d/etc/master.cf", <<'EOF2');
smtp      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF2
	system('postmap', '-c', "$d/etc", "hash:$d/etc/vusers") == 0 or die "postmap vusers failed";
	push @live, $self;
	return $self;
}

sub write {
	my ($self, $path, $text) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close $fh or die "$path: $!";
}

sub conf { $_[0]{conf} }
sub logfile { $_[0]{log} }

# The master's PID, or undef.
sub master_pid {
	my ($self) = @_;
	open(my $fh, '<', "$self->{dir}/spool/pid/master.pid") or return;
	my $pid = <$fh>;
	return unless defined $pid && $pid =~ /(\d+)/;
	return kill(0, $1) ? $1 : undef;
}

sub postfix {
	my ($self, @args) = @_;
	my $out = `postfix -c '$self->{conf}' @args 2>&1`;
	return ($? >> 8, $out);
}

# Start and wait until the master runs (it listens on port 25 before it
# logs "daemon started"); no test connection, so the log holds only the
# test's own SMTP sessions.
sub start {
	my ($self) = @_;
	my ($st, $out) = $self->postfix('start');
	die "postfix start failed ($st): $out" if $st;
	my $deadline = time + 20;
	while (time < $deadline) {
		if ($self->master_pid && open(my $fh, '<', $self->{log})) {
			return 1 if grep { /postfix\/master\[\d+\]: daemon started/ } <$fh>;
		}
		sleep 0.2;
	}
	die "postfix did not start: $out";
}

sub postconf {
	my ($self, @settings) = @_;
	system('postconf', '-c', $self->{conf}, '-e', @settings) == 0 or die "postconf @settings failed";
}

sub reload {
	my ($self) = @_;
	my ($st, $out) = $self->postfix('reload');
	die "postfix reload failed: $out" if $st;
}

# Stop the instance: postfix stop, then the master by PID if it lingers.
sub stop {
	my ($self) = @_;
	my $pid = $self->master_pid;
	if ($pid) {
		$self->postfix('stop');
		my $deadline = time + 10;
		sleep 0.1 while kill(0, $pid) && time < $deadline;
		kill 'KILL', $pid if kill(0, $pid);
	}
	@live = grep { $_ != $self } @live;
}

# Processes of this instance still alive (the master; its children exit with it).
sub leftover_pids {
	my ($self) = @_;
	my $pid = $self->master_pid;
	return $pid ? ($pid) : ();
}

END {
	my $status = $?;
	$_->stop for (my @copy = @live);
	$? = $status;
}

1;

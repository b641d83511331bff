# test/tap/webhook_standby.pl -- webhooks and replication (PostgreSQL::Test::Cluster):
# a hot standby with delivery on sends nothing and runs no worker; once
# promoted it delivers what the primary had queued, once, with the event's id.
# Run by test/t/070_webhook_standby.sh (as the server's user), which starts
# test/receiver.py and passes FI_RECEIVER_PORT, FI_RECEIVER_LOG, FI_SITE_SQL.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $port = $ENV{FI_RECEIVER_PORT};
my $log  = $ENV{FI_RECEIVER_LOG};

sub received
{
	open(my $fh, '<', $log) or return ();
	my @rows = map { decode_json($_) } grep { /\S/ } <$fh>;
	close $fh;
	return grep { $_->{path} =~ m{^/ok/standby} } @rows;
}

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'frappe_integrations'
frappe_integrations.deliver = off
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE DATABASE site');
$primary->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $primary->connstr('site'),
	  '-f', $ENV{FI_SITE_SQL} ],
	'the Frappe-shaped site loads on the primary');
$primary->safe_psql('site', 'CREATE EXTENSION frappe_integrations');
$primary->safe_psql('site',
	q{INSERT INTO "tabSales Invoice" (name, customer, grand_total) VALUES ('SINV-STBY-1', 'A', 10)});
$primary->safe_psql('site', qq{
	INSERT INTO "tabWebhook" (name, webhook_doctype, webhook_docevent, request_url,
	                          request_structure, webhook_json, enabled)
	VALUES ('standby', 'Sales Invoice', 'on_update', 'http://127.0.0.1:$port/ok/standby',
	        'JSON', '{"n": "{{ doc.name }}", "total": {{ doc.grand_total }}}', 1)});

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
# the standby would deliver if it could
$standby->append_conf('postgresql.conf', "frappe_integrations.deliver = on\n");
$standby->start;

# an event committed on the primary (which does not deliver) reaches the standby
$primary->safe_psql('site',
	q{UPDATE "tabSales Invoice" SET grand_total = 11 WHERE name = 'SINV-STBY-1'});
$primary->wait_for_catchup($standby);
my $event_id = $standby->safe_psql('site',
	q{SELECT event_id FROM integrations.webhook_queue WHERE status = 'pending'});
like($event_id, qr/^[0-9a-f-]{36}$/, 'the standby has the pending event, replicated');

# give a wrongly started worker time to send (bounded): nothing may arrive
for (1 .. 30)
{
	last if received();
	select(undef, undef, undef, 0.1);
}
is(scalar(received()), 0, 'the hot standby sends nothing, with delivery on');
is( $standby->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'frappe_integrations%'}),
	'0', 'no launcher and no worker run on the standby');

# the primary goes; the standby is promoted and delivers what was pending
$primary->stop('fast');
$standby->promote;
for (1 .. 300)
{
	last if received();
	select(undef, undef, undef, 0.1);
}
my @got = received();
is(scalar(@got), 1, 'the promoted standby delivers the pending event, once');
is($got[0]{headers}{'webhook-id'} // '', "msg_$event_id",
	'with the id the event was given at commit on the primary');
is($got[0]{body} // '', '{"n": "SINV-STBY-1", "total": 11.0}',
	'and the body fixed at commit on the primary');
my $status = '';
for (1 .. 100)
{
	$status = $standby->safe_psql('site',
		q{SELECT status FROM integrations.webhook_queue WHERE webhook = 'standby'});
	last if $status eq 'delivered';
	select(undef, undef, undef, 0.1);
}
is($status, 'delivered', 'the promoted node records it as delivered');

$standby->stop('fast');
done_testing();

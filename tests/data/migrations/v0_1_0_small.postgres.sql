-- A PostgreSQL database made by lotline release 0.1.0 (git commit 99b9032): `lotline ingest
-- tests/data/small`, then `lotline report recall --gtin 00614141000036 --lot D1` and `lotline
-- mock-recall` of the same lot, dumped by pg_dump 15 (--no-owner --no-privileges --column-inserts;
-- psql meta-commands removed, so the driver runs it). tests/lotline/test_schema_migrations.py
-- restores it and upgrades it.

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

CREATE TABLE public.consumption_record (
    gtin character varying NOT NULL,
    serial character varying,
    quantity double precision NOT NULL,
    uom character varying NOT NULL,
    record_hash character varying NOT NULL,
    line_key character varying NOT NULL,
    version integer NOT NULL,
    correction_reason character varying,
    source_sha256 character varying NOT NULL,
    source_file character varying NOT NULL,
    source_row integer NOT NULL,
    load_id character varying NOT NULL,
    production_id character varying NOT NULL,
    lot character varying
);

CREATE TABLE public.issued_document (
    document_number character varying NOT NULL,
    kind character varying NOT NULL,
    title character varying NOT NULL,
    generated_at timestamp with time zone NOT NULL,
    snapshot_id character varying,
    pipeline_run_id character varying,
    request_reference character varying,
    file_name character varying,
    pdf_sha256 character varying,
    pdf_bytes integer
);

CREATE TABLE public.load_lock (
    id integer NOT NULL,
    load_id character varying,
    locked_at timestamp with time zone
);

CREATE TABLE public.location (
    location_id character varying NOT NULL,
    kind character varying NOT NULL,
    business_name character varying NOT NULL,
    gln character varying,
    phone character varying,
    street character varying,
    city character varying,
    region character varying,
    postal_code character varying,
    country character varying,
    latitude double precision,
    longitude double precision,
    record_hash character varying NOT NULL
);

CREATE TABLE public.lot (
    lot_key integer NOT NULL,
    gtin character varying NOT NULL,
    lot character varying NOT NULL,
    product_name character varying,
    uom character varying,
    origin character varying NOT NULL,
    tlc_source_location_id character varying,
    tlc_source_reference character varying,
    first_seen_at timestamp with time zone,
    production_date date,
    expiry_date date,
    quantity_received double precision NOT NULL,
    quantity_produced double precision NOT NULL,
    quantity_consumed double precision NOT NULL,
    quantity_shipped double precision NOT NULL,
    quantity_returned double precision NOT NULL,
    quantity_adjusted double precision NOT NULL,
    quantity_destroyed double precision NOT NULL,
    quantity_on_hand double precision NOT NULL,
    snapshot_id character varying NOT NULL
);

CREATE TABLE public.lot_closure (
    ancestor_key integer NOT NULL,
    descendant_key integer NOT NULL,
    depth integer NOT NULL,
    exposure double precision NOT NULL,
    snapshot_id character varying NOT NULL
);

CREATE TABLE public.lot_completeness (
    lot_key integer NOT NULL,
    gtin character varying NOT NULL,
    lot character varying NOT NULL,
    score double precision NOT NULL,
    n_checks integer NOT NULL,
    n_exceptions integer NOT NULL,
    checks_failed character varying,
    snapshot_id character varying NOT NULL
);

CREATE SEQUENCE public.lot_completeness_lot_key_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.lot_completeness_lot_key_seq OWNED BY public.lot_completeness.lot_key;

CREATE TABLE public.lot_edge (
    id integer NOT NULL,
    parent_key integer NOT NULL,
    child_key integer NOT NULL,
    production_id character varying NOT NULL,
    completed_at timestamp with time zone NOT NULL,
    location_id character varying NOT NULL,
    input_quantity double precision NOT NULL,
    input_uom character varying NOT NULL,
    output_quantity double precision NOT NULL,
    output_uom character varying NOT NULL,
    share double precision,
    evidence character varying NOT NULL,
    snapshot_id character varying NOT NULL
);

CREATE SEQUENCE public.lot_edge_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.lot_edge_id_seq OWNED BY public.lot_edge.id;

CREATE SEQUENCE public.lot_lot_key_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.lot_lot_key_seq OWNED BY public.lot.lot_key;

CREATE TABLE public.lot_mass_balance (
    lot_key integer NOT NULL,
    gtin character varying NOT NULL,
    lot character varying NOT NULL,
    product_name character varying,
    uom character varying,
    quantity_received double precision,
    quantity_produced double precision,
    quantity_returned double precision,
    quantity_adjusted_in double precision,
    quantity_consumed double precision,
    quantity_shipped double precision,
    quantity_destroyed double precision,
    quantity_adjusted_out double precision,
    quantity_on_hand double precision,
    inflow double precision,
    accounted double precision,
    difference double precision,
    balance_ratio double precision,
    unconvertible_rows integer NOT NULL,
    status character varying NOT NULL,
    snapshot_id character varying NOT NULL
);

CREATE SEQUENCE public.lot_mass_balance_lot_key_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.lot_mass_balance_lot_key_seq OWNED BY public.lot_mass_balance.lot_key;

CREATE TABLE public.lot_on_hand (
    lot_key integer NOT NULL,
    location_id character varying NOT NULL,
    quantity double precision NOT NULL,
    uom character varying NOT NULL,
    last_movement_at timestamp with time zone,
    snapshot_id character varying NOT NULL
);

CREATE TABLE public.lot_receipt (
    id integer NOT NULL,
    lot_key integer NOT NULL,
    receipt_id character varying NOT NULL,
    received_at timestamp with time zone NOT NULL,
    tz_offset character varying NOT NULL,
    from_location_id character varying NOT NULL,
    to_location_id character varying NOT NULL,
    gtin character varying NOT NULL,
    lot character varying NOT NULL,
    serial character varying,
    quantity double precision NOT NULL,
    uom character varying NOT NULL,
    tlc_source_reference character varying,
    ref_doc_type character varying,
    ref_doc_number character varying,
    snapshot_id character varying NOT NULL
);

CREATE SEQUENCE public.lot_receipt_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.lot_receipt_id_seq OWNED BY public.lot_receipt.id;

CREATE TABLE public.lot_shipment (
    id integer NOT NULL,
    lot_key integer NOT NULL,
    shipment_id character varying NOT NULL,
    shipped_at timestamp with time zone NOT NULL,
    tz_offset character varying NOT NULL,
    from_location_id character varying NOT NULL,
    to_location_id character varying NOT NULL,
    gtin character varying NOT NULL,
    lot character varying NOT NULL,
    serial character varying,
    sscc character varying,
    quantity double precision NOT NULL,
    uom character varying NOT NULL,
    ref_doc_type character varying,
    ref_doc_number character varying,
    snapshot_id character varying NOT NULL
);

CREATE SEQUENCE public.lot_shipment_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.lot_shipment_id_seq OWNED BY public.lot_shipment.id;

CREATE TABLE public.lot_status (
    id integer NOT NULL,
    gtin character varying NOT NULL,
    lot character varying,
    serial character varying,
    status character varying NOT NULL,
    status_at timestamp with time zone NOT NULL,
    status_id character varying NOT NULL,
    status_actor character varying,
    status_reason character varying,
    status_source character varying NOT NULL,
    snapshot_id character varying NOT NULL
);

CREATE SEQUENCE public.lot_status_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.lot_status_id_seq OWNED BY public.lot_status.id;

CREATE TABLE public.mock_recall (
    drill_id character varying NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone NOT NULL,
    seconds_to_answer double precision NOT NULL,
    gtin character varying NOT NULL,
    lot character varying NOT NULL,
    direction character varying NOT NULL,
    run_by character varying NOT NULL,
    snapshot_id character varying,
    lots_reached integer NOT NULL,
    shipments integer NOT NULL,
    consignees integer NOT NULL,
    quantity_inflow double precision,
    quantity_accounted double precision,
    percent_accounted double precision,
    status character varying NOT NULL,
    document_number character varying,
    pdf_path character varying
);

CREATE TABLE public.move_record (
    gtin character varying NOT NULL,
    lot character varying NOT NULL,
    serial character varying,
    quantity double precision NOT NULL,
    uom character varying NOT NULL,
    record_hash character varying NOT NULL,
    line_key character varying NOT NULL,
    version integer NOT NULL,
    correction_reason character varying,
    source_sha256 character varying NOT NULL,
    source_file character varying NOT NULL,
    source_row integer NOT NULL,
    load_id character varying NOT NULL,
    move_id character varying NOT NULL,
    moved_at timestamp with time zone NOT NULL,
    tz_offset character varying NOT NULL,
    from_location_id character varying,
    to_location_id character varying,
    reason character varying NOT NULL
);

CREATE TABLE public.packing_record (
    ref_doc_type character varying,
    ref_doc_number character varying,
    record_hash character varying NOT NULL,
    line_key character varying NOT NULL,
    version integer NOT NULL,
    correction_reason character varying,
    source_sha256 character varying NOT NULL,
    source_file character varying NOT NULL,
    source_row integer NOT NULL,
    load_id character varying NOT NULL,
    packing_id character varying NOT NULL,
    packed_at timestamp with time zone NOT NULL,
    tz_offset character varying NOT NULL,
    action character varying NOT NULL,
    parent_sscc character varying NOT NULL,
    child_sscc character varying,
    gtin character varying,
    lot character varying,
    serial character varying,
    quantity double precision,
    uom character varying,
    location_id character varying NOT NULL
);

CREATE TABLE public.product (
    gtin character varying(14) NOT NULL,
    name character varying NOT NULL,
    brand character varying,
    commodity character varying,
    variety character varying,
    pack_size double precision,
    pack_uom character varying,
    pack_style character varying,
    tracking character varying NOT NULL,
    shelf_life_days integer,
    uom character varying NOT NULL,
    expiry_kind character varying DEFAULT 'use_by'::character varying,
    record_hash character varying NOT NULL
);

CREATE TABLE public.production_record (
    ref_doc_type character varying,
    ref_doc_number character varying,
    gtin character varying NOT NULL,
    lot character varying NOT NULL,
    serial character varying,
    quantity double precision NOT NULL,
    uom character varying NOT NULL,
    record_hash character varying NOT NULL,
    line_key character varying NOT NULL,
    version integer NOT NULL,
    correction_reason character varying,
    source_sha256 character varying NOT NULL,
    source_file character varying NOT NULL,
    source_row integer NOT NULL,
    load_id character varying NOT NULL,
    production_id character varying NOT NULL,
    completed_at timestamp with time zone NOT NULL,
    tz_offset character varying NOT NULL,
    location_id character varying NOT NULL,
    production_date date,
    expiry_date date
);

CREATE TABLE public.receipt_record (
    ref_doc_type character varying,
    ref_doc_number character varying,
    gtin character varying NOT NULL,
    lot character varying NOT NULL,
    serial character varying,
    quantity double precision NOT NULL,
    uom character varying NOT NULL,
    record_hash character varying NOT NULL,
    line_key character varying NOT NULL,
    version integer NOT NULL,
    correction_reason character varying,
    source_sha256 character varying NOT NULL,
    source_file character varying NOT NULL,
    source_row integer NOT NULL,
    load_id character varying NOT NULL,
    receipt_id character varying NOT NULL,
    received_at timestamp with time zone NOT NULL,
    tz_offset character varying NOT NULL,
    from_location_id character varying NOT NULL,
    to_location_id character varying NOT NULL,
    production_date date,
    expiry_date date,
    tlc_source_reference character varying
);

CREATE TABLE public.record_finding (
    id integer NOT NULL,
    record_hash character varying,
    record_type character varying NOT NULL,
    gtin character varying,
    lot character varying,
    source_sha256 character varying NOT NULL,
    source_file character varying NOT NULL,
    row_number integer,
    "column" character varying NOT NULL,
    rule character varying NOT NULL,
    severity character varying NOT NULL,
    value character varying,
    message character varying NOT NULL,
    load_id character varying NOT NULL
);

CREATE SEQUENCE public.record_finding_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.record_finding_id_seq OWNED BY public.record_finding.id;

CREATE TABLE public.record_history (
    record_type character varying NOT NULL,
    line_key character varying NOT NULL,
    version integer NOT NULL,
    record_hash character varying NOT NULL,
    record character varying NOT NULL,
    gtin character varying,
    lot character varying,
    source_file character varying NOT NULL,
    source_row integer NOT NULL,
    load_id character varying NOT NULL,
    change character varying NOT NULL,
    changes character varying NOT NULL,
    reason character varying,
    changed_by_file character varying NOT NULL,
    changed_by_row integer NOT NULL,
    changed_by_load character varying NOT NULL,
    changed_at timestamp with time zone NOT NULL
);

CREATE TABLE public.rejected_record (
    id integer NOT NULL,
    source_sha256 character varying NOT NULL,
    source_file character varying NOT NULL,
    record_type character varying NOT NULL,
    row_number integer NOT NULL,
    "column" character varying NOT NULL,
    rule character varying NOT NULL,
    value character varying,
    message character varying NOT NULL,
    record character varying NOT NULL,
    load_id character varying NOT NULL
);

CREATE SEQUENCE public.rejected_record_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.rejected_record_id_seq OWNED BY public.rejected_record.id;

CREATE TABLE public.serial (
    gtin character varying NOT NULL,
    serial character varying NOT NULL,
    lot_key integer NOT NULL,
    lot character varying NOT NULL,
    origin character varying NOT NULL,
    origin_id character varying NOT NULL,
    created_at timestamp with time zone NOT NULL,
    snapshot_id character varying NOT NULL
);

CREATE TABLE public.shipment_record (
    ref_doc_type character varying,
    ref_doc_number character varying,
    serial character varying,
    record_hash character varying NOT NULL,
    line_key character varying NOT NULL,
    version integer NOT NULL,
    correction_reason character varying,
    source_sha256 character varying NOT NULL,
    source_file character varying NOT NULL,
    source_row integer NOT NULL,
    load_id character varying NOT NULL,
    shipment_id character varying NOT NULL,
    shipped_at timestamp with time zone NOT NULL,
    tz_offset character varying NOT NULL,
    from_location_id character varying NOT NULL,
    to_location_id character varying NOT NULL,
    sscc character varying,
    gtin character varying,
    lot character varying,
    quantity double precision,
    uom character varying
);

CREATE TABLE public.snapshot (
    snapshot_id character varying NOT NULL,
    created_at timestamp with time zone NOT NULL,
    load_id character varying NOT NULL,
    input_sha256 character varying NOT NULL,
    record_count integer NOT NULL
);

CREATE TABLE public.source_file (
    sha256 character varying NOT NULL,
    file_name character varying NOT NULL,
    record_type character varying NOT NULL,
    load_id character varying NOT NULL,
    loaded_at timestamp with time zone NOT NULL,
    rows_read integer NOT NULL,
    rows_loaded integer NOT NULL,
    rows_unchanged integer NOT NULL,
    rows_rejected integer NOT NULL
);

CREATE TABLE public.status_record (
    ref_doc_type character varying,
    ref_doc_number character varying,
    record_hash character varying NOT NULL,
    line_key character varying NOT NULL,
    version integer NOT NULL,
    correction_reason character varying,
    source_sha256 character varying NOT NULL,
    source_file character varying NOT NULL,
    source_row integer NOT NULL,
    load_id character varying NOT NULL,
    status_id character varying NOT NULL,
    at timestamp with time zone NOT NULL,
    tz_offset character varying NOT NULL,
    gtin character varying NOT NULL,
    lot character varying,
    serial character varying,
    status character varying NOT NULL,
    actor character varying NOT NULL,
    reason character varying
);

CREATE TABLE public.trace_exception (
    id integer NOT NULL,
    "check" character varying NOT NULL,
    severity character varying NOT NULL,
    gtin character varying,
    lot character varying,
    serial character varying,
    reference character varying,
    detail character varying,
    snapshot_id character varying NOT NULL
);

CREATE SEQUENCE public.trace_exception_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.trace_exception_id_seq OWNED BY public.trace_exception.id;

ALTER TABLE ONLY public.lot ALTER COLUMN lot_key SET DEFAULT nextval('public.lot_lot_key_seq'::regclass);

ALTER TABLE ONLY public.lot_completeness ALTER COLUMN lot_key SET DEFAULT nextval('public.lot_completeness_lot_key_seq'::regclass);

ALTER TABLE ONLY public.lot_edge ALTER COLUMN id SET DEFAULT nextval('public.lot_edge_id_seq'::regclass);

ALTER TABLE ONLY public.lot_mass_balance ALTER COLUMN lot_key SET DEFAULT nextval('public.lot_mass_balance_lot_key_seq'::regclass);

ALTER TABLE ONLY public.lot_receipt ALTER COLUMN id SET DEFAULT nextval('public.lot_receipt_id_seq'::regclass);

ALTER TABLE ONLY public.lot_shipment ALTER COLUMN id SET DEFAULT nextval('public.lot_shipment_id_seq'::regclass);

ALTER TABLE ONLY public.lot_status ALTER COLUMN id SET DEFAULT nextval('public.lot_status_id_seq'::regclass);

ALTER TABLE ONLY public.record_finding ALTER COLUMN id SET DEFAULT nextval('public.record_finding_id_seq'::regclass);

ALTER TABLE ONLY public.rejected_record ALTER COLUMN id SET DEFAULT nextval('public.rejected_record_id_seq'::regclass);

ALTER TABLE ONLY public.trace_exception ALTER COLUMN id SET DEFAULT nextval('public.trace_exception_id_seq'::regclass);

INSERT INTO public.consumption_record (gtin, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, lot) VALUES ('00614141000012', NULL, 400, 'KGM', '861ffc17a57824cee6fe65cc2b00d896', 'P100614141000012F1', 1, NULL, '5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6', 'consumption.csv', 2, '889bf15b46914cb082340ef8f9ad1c5d', 'P1', 'F1');
INSERT INTO public.consumption_record (gtin, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, lot) VALUES ('00614141000029', NULL, 200, 'KGM', '98794a69f4a32e4f2a8a001eff6be26c', 'P100614141000029S1', 1, NULL, '5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6', 'consumption.csv', 3, '889bf15b46914cb082340ef8f9ad1c5d', 'P1', 'S1');
INSERT INTO public.consumption_record (gtin, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, lot) VALUES ('00614141000012', NULL, 300, 'KGM', '9841be8f5a0f5de9d39827e5229b34e3', 'P200614141000012F1', 1, NULL, '5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6', 'consumption.csv', 4, '889bf15b46914cb082340ef8f9ad1c5d', 'P2', 'F1');
INSERT INTO public.consumption_record (gtin, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, lot) VALUES ('00614141000012', NULL, 200, 'KGM', 'e7840e95dca976302def74e571c386c5', 'P200614141000012F2', 1, NULL, '5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6', 'consumption.csv', 5, '889bf15b46914cb082340ef8f9ad1c5d', 'P2', 'F2');
INSERT INTO public.consumption_record (gtin, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, lot) VALUES ('00614141000029', NULL, 100, 'KGM', '752a47f28d5f438fd069dd38fd06e621', 'P200614141000029S1', 1, NULL, '5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6', 'consumption.csv', 6, '889bf15b46914cb082340ef8f9ad1c5d', 'P2', 'S1');
INSERT INTO public.consumption_record (gtin, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, lot) VALUES ('00614141000036', NULL, 300, 'KGM', '9871e96f44556db8da435bfdffc87b79', 'P300614141000036D1', 1, NULL, '5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6', 'consumption.csv', 7, '889bf15b46914cb082340ef8f9ad1c5d', 'P3', 'D1');
INSERT INTO public.consumption_record (gtin, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, lot) VALUES ('00614141000036', NULL, 100, 'KGM', 'ec6e481a2a4a156caa2789fb98369830', 'P300614141000036D2', 1, NULL, '5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6', 'consumption.csv', 8, '889bf15b46914cb082340ef8f9ad1c5d', 'P3', 'D2');
INSERT INTO public.consumption_record (gtin, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, lot) VALUES ('00614141000036', NULL, 250, 'KGM', 'baf618d4a4c2cc0db5998b78286fe284', 'P400614141000036D2', 1, NULL, '5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6', 'consumption.csv', 9, '889bf15b46914cb082340ef8f9ad1c5d', 'P4', 'D2');
INSERT INTO public.consumption_record (gtin, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, lot) VALUES ('00614141000043', NULL, 3, 'CS', '1c9795958bacfb284fa65606e19770ed', 'P500614141000043C1', 1, NULL, '5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6', 'consumption.csv', 10, '889bf15b46914cb082340ef8f9ad1c5d', 'P5', 'C1');
INSERT INTO public.consumption_record (gtin, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, lot) VALUES ('00614141000043', NULL, 5, 'CS', '7fa36c84fa84077efacdbafb1db17cfb', 'P600614141000043C2', 1, NULL, '5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6', 'consumption.csv', 11, '889bf15b46914cb082340ef8f9ad1c5d', 'P6', 'C2');
INSERT INTO public.consumption_record (gtin, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, lot) VALUES ('00614141000012', NULL, 100, 'KGM', 'b6829c609ba5f88beecb5a66be0401c4', 'P700614141000012F2', 1, NULL, '5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6', 'consumption.csv', 12, '889bf15b46914cb082340ef8f9ad1c5d', 'P7', 'F2');

INSERT INTO public.issued_document (document_number, kind, title, generated_at, snapshot_id, pipeline_run_id, request_reference, file_name, pdf_sha256, pdf_bytes) VALUES ('REC-20261207142706-cd7e85', 'recall', 'Lot Traceability & Recall Report', '2026-12-07 14:27:06.65919+00', '755c9c4519715a5cc8b5a162d59d8e8a', '78016cfd-44d2-46f7-a278-f2b018b1bb9c', 'FDA-TEST-1', 'recall_00614141000036_D1_REC-20261207142706-cd7e85.pdf', '65f0c7d0839bb766724e4fae472e45d288ac1fa5f2c2a17dfbd0733cf2d5b9ee', 176257);
INSERT INTO public.issued_document (document_number, kind, title, generated_at, snapshot_id, pipeline_run_id, request_reference, file_name, pdf_sha256, pdf_bytes) VALUES ('MRD-20261207142717-233ca4', 'mock_recall', 'Mock Recall Drill Evidence', '2026-12-07 14:27:17.687893+00', '755c9c4519715a5cc8b5a162d59d8e8a', NULL, 'DRL-20261207142717-455107', 'mock_recall_DRL-20261207142717-455107_MRD-20261207142717-233ca4.pdf', '8a81287a53772ee8e94fb6b413b542620d532b2553deef56b5c1b444376ff680', 54600);

INSERT INTO public.load_lock (id, load_id, locked_at) VALUES (1, NULL, NULL);

INSERT INTO public.location (location_id, kind, business_name, gln, phone, street, city, region, postal_code, country, latitude, longitude, record_hash) VALUES ('SUP-MILL', 'supplier', 'Prairie Mill Co', '0614141000012', '+1 555 0100', '1 Mill Road', 'Wichita', 'KS', '67202', 'US', 37.69, -97.34, '4683a48fb15068a15f793e5eb2468e51');
INSERT INTO public.location (location_id, kind, business_name, gln, phone, street, city, region, postal_code, country, latitude, longitude, record_hash) VALUES ('SUP-SUGAR', 'supplier', 'Gulf Sugar Refinery', '0614141000029', '+1 555 0101', '9 Cane Street', 'Houma', 'LA', '70360', 'US', 29.59, -90.72, 'df73b5c1ee00ae4eded2816a183bc50a');
INSERT INTO public.location (location_id, kind, business_name, gln, phone, street, city, region, postal_code, country, latitude, longitude, record_hash) VALUES ('SITE-1', 'site', 'Lotline Bakery Plant 1', '0614141000036', '+1 555 0102', '100 Oven Ave', 'Chicago', 'IL', '60607', 'US', 41.87, -87.65, '66ddc144f078372821b37c553339baed');
INSERT INTO public.location (location_id, kind, business_name, gln, phone, street, city, region, postal_code, country, latitude, longitude, record_hash) VALUES ('WH-1', 'warehouse', 'Lotline Central Warehouse', '0614141000043', '+1 555 0103', '7 Dock Lane', 'Joliet', 'IL', '60431', 'US', 41.52, -88.08, 'ae8a7fcdb06d92de5b79d89d30f50efc');
INSERT INTO public.location (location_id, kind, business_name, gln, phone, street, city, region, postal_code, country, latitude, longitude, record_hash) VALUES ('CUST-A', 'customer', 'Corner Grocer Inc', '0614141000050', '+1 555 0104', '22 Main St', 'Springfield', 'IL', '62701', 'US', 39.8, -89.64, '2c96db26150a0adb782eb4dc47df1ddc');
INSERT INTO public.location (location_id, kind, business_name, gln, phone, street, city, region, postal_code, country, latitude, longitude, record_hash) VALUES ('CUST-B', 'customer', 'MegaMart Distribution', '0614141000067', '+1 555 0105', '500 Logistics Pkwy', 'Columbus', 'OH', '43215', 'US', 39.96, -83, '27d91da2ef7ac0ceb407fc73b4c77e12');

INSERT INTO public.lot (lot_key, gtin, lot, product_name, uom, origin, tlc_source_location_id, tlc_source_reference, first_seen_at, production_date, expiry_date, quantity_received, quantity_produced, quantity_consumed, quantity_shipped, quantity_returned, quantity_adjusted, quantity_destroyed, quantity_on_hand, snapshot_id) VALUES (0, '00614141000012', 'F1', 'Wheat flour', 'KGM', 'received', 'SUP-MILL', '0614141000012', '2026-09-01 13:00:00+00', '2026-08-20', '2027-02-16', 1000, 0, 700, 0, 0, 0, 0, 300, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot (lot_key, gtin, lot, product_name, uom, origin, tlc_source_location_id, tlc_source_reference, first_seen_at, production_date, expiry_date, quantity_received, quantity_produced, quantity_consumed, quantity_shipped, quantity_returned, quantity_adjusted, quantity_destroyed, quantity_on_hand, snapshot_id) VALUES (1, '00614141000012', 'F2', 'Wheat flour', 'KGM', 'received', 'SUP-MILL', '0614141000012', '2026-09-02 13:00:00+00', '2026-08-25', '2027-02-21', 800, 0, 300, 0, 0, 0, 0, 500, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot (lot_key, gtin, lot, product_name, uom, origin, tlc_source_location_id, tlc_source_reference, first_seen_at, production_date, expiry_date, quantity_received, quantity_produced, quantity_consumed, quantity_shipped, quantity_returned, quantity_adjusted, quantity_destroyed, quantity_on_hand, snapshot_id) VALUES (2, '00614141000029', 'S1', 'Cane sugar', 'KGM', 'received', 'SUP-SUGAR', '0614141000029', '2026-09-01 14:30:00+00', '2026-07-01', '2028-06-20', 500, 0, 300, 0, 0, 0, 0, 200, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot (lot_key, gtin, lot, product_name, uom, origin, tlc_source_location_id, tlc_source_reference, first_seen_at, production_date, expiry_date, quantity_received, quantity_produced, quantity_consumed, quantity_shipped, quantity_returned, quantity_adjusted, quantity_destroyed, quantity_on_hand, snapshot_id) VALUES (3, '00614141000036', 'D1', 'Cookie dough', 'KGM', 'produced', 'SITE-1', NULL, '2026-09-05 15:00:00+00', '2026-09-05', '2026-09-15', 0, 600, 300, 0, 0, 0, 0, 300, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot (lot_key, gtin, lot, product_name, uom, origin, tlc_source_location_id, tlc_source_reference, first_seen_at, production_date, expiry_date, quantity_received, quantity_produced, quantity_consumed, quantity_shipped, quantity_returned, quantity_adjusted, quantity_destroyed, quantity_on_hand, snapshot_id) VALUES (4, '00614141000036', 'D2', 'Cookie dough', 'KGM', 'produced', 'SITE-1', NULL, '2026-09-05 19:00:00+00', '2026-09-05', '2026-09-15', 0, 505, 350, 0, 0, 0, 0, 155, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot (lot_key, gtin, lot, product_name, uom, origin, tlc_source_location_id, tlc_source_reference, first_seen_at, production_date, expiry_date, quantity_received, quantity_produced, quantity_consumed, quantity_shipped, quantity_returned, quantity_adjusted, quantity_destroyed, quantity_on_hand, snapshot_id) VALUES (5, '00614141000036', 'D3', 'Cookie dough', 'KGM', 'produced', 'SITE-1', NULL, '2026-09-08 17:00:00+00', '2026-09-08', '2026-09-18', 0, 70, 0, 0, 0, 0, 0, 70, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot (lot_key, gtin, lot, product_name, uom, origin, tlc_source_location_id, tlc_source_reference, first_seen_at, production_date, expiry_date, quantity_received, quantity_produced, quantity_consumed, quantity_shipped, quantity_returned, quantity_adjusted, quantity_destroyed, quantity_on_hand, snapshot_id) VALUES (6, '00614141000036', 'D4', 'Cookie dough', 'KGM', 'produced', 'SITE-1', NULL, '2026-09-08 17:00:00+00', '2026-09-08', '2026-09-18', 0, 30, 0, 0, 0, 0, 0, 30, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot (lot_key, gtin, lot, product_name, uom, origin, tlc_source_location_id, tlc_source_reference, first_seen_at, production_date, expiry_date, quantity_received, quantity_produced, quantity_consumed, quantity_shipped, quantity_returned, quantity_adjusted, quantity_destroyed, quantity_on_hand, snapshot_id) VALUES (7, '00614141000043', 'C1', 'Butter cookies 12x200g', 'CS', 'produced', 'SITE-1', NULL, '2026-09-06 15:00:00+00', '2026-09-06', '2027-01-04', 0, 100, 3, 80, 5, 0, 2, 20, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot (lot_key, gtin, lot, product_name, uom, origin, tlc_source_location_id, tlc_source_reference, first_seen_at, production_date, expiry_date, quantity_received, quantity_produced, quantity_consumed, quantity_shipped, quantity_returned, quantity_adjusted, quantity_destroyed, quantity_on_hand, snapshot_id) VALUES (8, '00614141000043', 'C2', 'Butter cookies 12x200g', 'CS', 'produced', 'SITE-1', NULL, '2026-09-06 20:00:00+00', '2026-09-06', '2027-01-04', 0, 80, 5, 40, 0, 1, 0, 36, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot (lot_key, gtin, lot, product_name, uom, origin, tlc_source_location_id, tlc_source_reference, first_seen_at, production_date, expiry_date, quantity_received, quantity_produced, quantity_consumed, quantity_shipped, quantity_returned, quantity_adjusted, quantity_destroyed, quantity_on_hand, snapshot_id) VALUES (9, '00614141000050', 'T1', 'Cookie gift tin', 'EA', 'produced', 'SITE-1', NULL, '2026-09-07 15:00:00+00', '2026-09-07', '2027-01-04', 0, 3, 0, 1, 0, 0, 0, 2, '755c9c4519715a5cc8b5a162d59d8e8a');

INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (0, 3, 1, 0.6666666666666666, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (0, 4, 1, 0.49999999999999534, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (0, 7, 2, 0.6249999999998822, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (0, 8, 2, 0.499999999999529, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (0, 9, 3, 0.6249999999998822, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (1, 4, 1, 0.3333333333333302, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (1, 5, 1, 1, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (1, 6, 1, 1, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (1, 7, 2, 0.08333333333325482, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (1, 8, 2, 0.3333333333330193, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (1, 9, 3, 0.08333333333325482, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (2, 3, 1, 0.3333333333333333, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (2, 4, 1, 0.1666666666666651, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (2, 7, 2, 0.2916666666666274, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (2, 8, 2, 0.16666666666650964, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (2, 9, 3, 0.29166666666662744, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (3, 7, 1, 0.75, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (3, 9, 2, 0.75, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (4, 4, 2, 0.009900990099009901, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (4, 7, 1, 0.25, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (4, 8, 1, 1, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (4, 9, 2, 0.25, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (7, 9, 1, 1, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (8, 4, 1, 0.009900990099009901, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (8, 7, 2, 0.0024752475247524753, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (8, 8, 2, 0.009900990099009901, '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_closure (ancestor_key, descendant_key, depth, exposure, snapshot_id) VALUES (8, 9, 3, 0.0024752475247524753, '755c9c4519715a5cc8b5a162d59d8e8a');

INSERT INTO public.lot_completeness (lot_key, gtin, lot, score, n_checks, n_exceptions, checks_failed, snapshot_id) VALUES (0, '00614141000012', 'F1', 1, 4, 0, '', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_completeness (lot_key, gtin, lot, score, n_checks, n_exceptions, checks_failed, snapshot_id) VALUES (1, '00614141000012', 'F2', 1, 4, 0, '', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_completeness (lot_key, gtin, lot, score, n_checks, n_exceptions, checks_failed, snapshot_id) VALUES (2, '00614141000029', 'S1', 1, 4, 0, '', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_completeness (lot_key, gtin, lot, score, n_checks, n_exceptions, checks_failed, snapshot_id) VALUES (3, '00614141000036', 'D1', 1, 5, 0, '', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_completeness (lot_key, gtin, lot, score, n_checks, n_exceptions, checks_failed, snapshot_id) VALUES (4, '00614141000036', 'D2', 1, 5, 0, '', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_completeness (lot_key, gtin, lot, score, n_checks, n_exceptions, checks_failed, snapshot_id) VALUES (5, '00614141000036', 'D3', 1, 5, 0, '', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_completeness (lot_key, gtin, lot, score, n_checks, n_exceptions, checks_failed, snapshot_id) VALUES (6, '00614141000036', 'D4', 1, 5, 0, '', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_completeness (lot_key, gtin, lot, score, n_checks, n_exceptions, checks_failed, snapshot_id) VALUES (7, '00614141000043', 'C1', 0.875, 8, 1, 'output_outlives_input', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_completeness (lot_key, gtin, lot, score, n_checks, n_exceptions, checks_failed, snapshot_id) VALUES (8, '00614141000043', 'C2', 0.875, 8, 1, 'output_outlives_input', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_completeness (lot_key, gtin, lot, score, n_checks, n_exceptions, checks_failed, snapshot_id) VALUES (9, '00614141000050', 'T1', 0.875, 8, 1, 'output_outlives_input', '755c9c4519715a5cc8b5a162d59d8e8a');

INSERT INTO public.lot_edge (id, parent_key, child_key, production_id, completed_at, location_id, input_quantity, input_uom, output_quantity, output_uom, share, evidence, snapshot_id) VALUES (1, 0, 3, 'P1', '2026-09-05 15:00:00+00', 'SITE-1', 400, 'KGM', 600, 'KGM', 0.6666666666666666, 'explicit', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_edge (id, parent_key, child_key, production_id, completed_at, location_id, input_quantity, input_uom, output_quantity, output_uom, share, evidence, snapshot_id) VALUES (2, 0, 4, 'P2', '2026-09-05 19:00:00+00', 'SITE-1', 300, 'KGM', 500, 'KGM', 0.49504950495049505, 'explicit', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_edge (id, parent_key, child_key, production_id, completed_at, location_id, input_quantity, input_uom, output_quantity, output_uom, share, evidence, snapshot_id) VALUES (3, 1, 4, 'P2', '2026-09-05 19:00:00+00', 'SITE-1', 200, 'KGM', 500, 'KGM', 0.33003300330033003, 'explicit', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_edge (id, parent_key, child_key, production_id, completed_at, location_id, input_quantity, input_uom, output_quantity, output_uom, share, evidence, snapshot_id) VALUES (4, 1, 5, 'P7', '2026-09-08 17:00:00+00', 'SITE-1', 100, 'KGM', 70, 'KGM', 1, 'explicit', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_edge (id, parent_key, child_key, production_id, completed_at, location_id, input_quantity, input_uom, output_quantity, output_uom, share, evidence, snapshot_id) VALUES (5, 1, 6, 'P7', '2026-09-08 17:00:00+00', 'SITE-1', 100, 'KGM', 30, 'KGM', 1, 'explicit', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_edge (id, parent_key, child_key, production_id, completed_at, location_id, input_quantity, input_uom, output_quantity, output_uom, share, evidence, snapshot_id) VALUES (6, 2, 3, 'P1', '2026-09-05 15:00:00+00', 'SITE-1', 200, 'KGM', 600, 'KGM', 0.3333333333333333, 'explicit', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_edge (id, parent_key, child_key, production_id, completed_at, location_id, input_quantity, input_uom, output_quantity, output_uom, share, evidence, snapshot_id) VALUES (7, 2, 4, 'P2', '2026-09-05 19:00:00+00', 'SITE-1', 100, 'KGM', 500, 'KGM', 0.16501650165016502, 'explicit', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_edge (id, parent_key, child_key, production_id, completed_at, location_id, input_quantity, input_uom, output_quantity, output_uom, share, evidence, snapshot_id) VALUES (8, 3, 7, 'P3', '2026-09-06 15:00:00+00', 'SITE-1', 300, 'KGM', 100, 'CS', 0.75, 'explicit', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_edge (id, parent_key, child_key, production_id, completed_at, location_id, input_quantity, input_uom, output_quantity, output_uom, share, evidence, snapshot_id) VALUES (9, 4, 7, 'P3', '2026-09-06 15:00:00+00', 'SITE-1', 100, 'KGM', 100, 'CS', 0.25, 'explicit', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_edge (id, parent_key, child_key, production_id, completed_at, location_id, input_quantity, input_uom, output_quantity, output_uom, share, evidence, snapshot_id) VALUES (10, 4, 8, 'P4', '2026-09-06 20:00:00+00', 'SITE-1', 250, 'KGM', 80, 'CS', 1, 'explicit', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_edge (id, parent_key, child_key, production_id, completed_at, location_id, input_quantity, input_uom, output_quantity, output_uom, share, evidence, snapshot_id) VALUES (11, 7, 9, 'P5', '2026-09-07 15:00:00+00', 'SITE-1', 3, 'CS', 3, 'EA', 1, 'explicit', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_edge (id, parent_key, child_key, production_id, completed_at, location_id, input_quantity, input_uom, output_quantity, output_uom, share, evidence, snapshot_id) VALUES (12, 8, 4, 'P6', '2026-09-08 14:00:00+00', 'SITE-1', 5, 'CS', 5, 'KGM', 0.009900990099009901, 'explicit', '755c9c4519715a5cc8b5a162d59d8e8a');

INSERT INTO public.lot_mass_balance (lot_key, gtin, lot, product_name, uom, quantity_received, quantity_produced, quantity_returned, quantity_adjusted_in, quantity_consumed, quantity_shipped, quantity_destroyed, quantity_adjusted_out, quantity_on_hand, inflow, accounted, difference, balance_ratio, unconvertible_rows, status, snapshot_id) VALUES (0, '00614141000012', 'F1', 'Wheat flour', 'KGM', 1000, 0, 0, 0, 700, 0, 0, -0, 300, 1000, 1000, 0, 1, 0, 'pass', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_mass_balance (lot_key, gtin, lot, product_name, uom, quantity_received, quantity_produced, quantity_returned, quantity_adjusted_in, quantity_consumed, quantity_shipped, quantity_destroyed, quantity_adjusted_out, quantity_on_hand, inflow, accounted, difference, balance_ratio, unconvertible_rows, status, snapshot_id) VALUES (1, '00614141000012', 'F2', 'Wheat flour', 'KGM', 800, 0, 0, 0, 300, 0, 0, -0, 500, 800, 800, 0, 1, 0, 'pass', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_mass_balance (lot_key, gtin, lot, product_name, uom, quantity_received, quantity_produced, quantity_returned, quantity_adjusted_in, quantity_consumed, quantity_shipped, quantity_destroyed, quantity_adjusted_out, quantity_on_hand, inflow, accounted, difference, balance_ratio, unconvertible_rows, status, snapshot_id) VALUES (2, '00614141000029', 'S1', 'Cane sugar', 'KGM', 500, 0, 0, 0, 300, 0, 0, -0, 200, 500, 500, 0, 1, 0, 'pass', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_mass_balance (lot_key, gtin, lot, product_name, uom, quantity_received, quantity_produced, quantity_returned, quantity_adjusted_in, quantity_consumed, quantity_shipped, quantity_destroyed, quantity_adjusted_out, quantity_on_hand, inflow, accounted, difference, balance_ratio, unconvertible_rows, status, snapshot_id) VALUES (3, '00614141000036', 'D1', 'Cookie dough', 'KGM', 0, 600, 0, 0, 300, 0, 0, -0, 300, 600, 600, 0, 1, 0, 'pass', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_mass_balance (lot_key, gtin, lot, product_name, uom, quantity_received, quantity_produced, quantity_returned, quantity_adjusted_in, quantity_consumed, quantity_shipped, quantity_destroyed, quantity_adjusted_out, quantity_on_hand, inflow, accounted, difference, balance_ratio, unconvertible_rows, status, snapshot_id) VALUES (4, '00614141000036', 'D2', 'Cookie dough', 'KGM', 0, 505, 0, 0, 350, 0, 0, -0, 155, 505, 505, 0, 1, 0, 'pass', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_mass_balance (lot_key, gtin, lot, product_name, uom, quantity_received, quantity_produced, quantity_returned, quantity_adjusted_in, quantity_consumed, quantity_shipped, quantity_destroyed, quantity_adjusted_out, quantity_on_hand, inflow, accounted, difference, balance_ratio, unconvertible_rows, status, snapshot_id) VALUES (5, '00614141000036', 'D3', 'Cookie dough', 'KGM', 0, 70, 0, 0, 0, 0, 0, -0, 70, 70, 70, 0, 1, 0, 'pass', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_mass_balance (lot_key, gtin, lot, product_name, uom, quantity_received, quantity_produced, quantity_returned, quantity_adjusted_in, quantity_consumed, quantity_shipped, quantity_destroyed, quantity_adjusted_out, quantity_on_hand, inflow, accounted, difference, balance_ratio, unconvertible_rows, status, snapshot_id) VALUES (6, '00614141000036', 'D4', 'Cookie dough', 'KGM', 0, 30, 0, 0, 0, 0, 0, -0, 30, 30, 30, 0, 1, 0, 'pass', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_mass_balance (lot_key, gtin, lot, product_name, uom, quantity_received, quantity_produced, quantity_returned, quantity_adjusted_in, quantity_consumed, quantity_shipped, quantity_destroyed, quantity_adjusted_out, quantity_on_hand, inflow, accounted, difference, balance_ratio, unconvertible_rows, status, snapshot_id) VALUES (7, '00614141000043', 'C1', 'Butter cookies 12x200g', 'CS', 0, 100, 5, 0, 3, 80, 2, -0, 20, 105, 105, 0, 1, 0, 'pass', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_mass_balance (lot_key, gtin, lot, product_name, uom, quantity_received, quantity_produced, quantity_returned, quantity_adjusted_in, quantity_consumed, quantity_shipped, quantity_destroyed, quantity_adjusted_out, quantity_on_hand, inflow, accounted, difference, balance_ratio, unconvertible_rows, status, snapshot_id) VALUES (8, '00614141000043', 'C2', 'Butter cookies 12x200g', 'CS', 0, 80, 0, 1, 5, 40, 0, 0, 36, 81, 81, 0, 1, 0, 'pass', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_mass_balance (lot_key, gtin, lot, product_name, uom, quantity_received, quantity_produced, quantity_returned, quantity_adjusted_in, quantity_consumed, quantity_shipped, quantity_destroyed, quantity_adjusted_out, quantity_on_hand, inflow, accounted, difference, balance_ratio, unconvertible_rows, status, snapshot_id) VALUES (9, '00614141000050', 'T1', 'Cookie gift tin', 'EA', 0, 3, 0, 0, 0, 1, 0, -0, 2, 3, 3, 0, 1, 0, 'pass', '755c9c4519715a5cc8b5a162d59d8e8a');

INSERT INTO public.lot_on_hand (lot_key, location_id, quantity, uom, last_movement_at, snapshot_id) VALUES (0, 'SITE-1', 300, 'KGM', '2026-09-05 19:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_on_hand (lot_key, location_id, quantity, uom, last_movement_at, snapshot_id) VALUES (1, 'SITE-1', 500, 'KGM', '2026-09-08 17:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_on_hand (lot_key, location_id, quantity, uom, last_movement_at, snapshot_id) VALUES (2, 'SITE-1', 200, 'KGM', '2026-09-05 19:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_on_hand (lot_key, location_id, quantity, uom, last_movement_at, snapshot_id) VALUES (3, 'SITE-1', 300, 'KGM', '2026-09-06 15:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_on_hand (lot_key, location_id, quantity, uom, last_movement_at, snapshot_id) VALUES (4, 'SITE-1', 155, 'KGM', '2026-09-08 14:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_on_hand (lot_key, location_id, quantity, uom, last_movement_at, snapshot_id) VALUES (5, 'SITE-1', 70, 'KGM', '2026-09-08 17:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_on_hand (lot_key, location_id, quantity, uom, last_movement_at, snapshot_id) VALUES (6, 'SITE-1', 30, 'KGM', '2026-09-08 17:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_on_hand (lot_key, location_id, quantity, uom, last_movement_at, snapshot_id) VALUES (7, 'SITE-1', 5, 'CS', '2026-09-08 22:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_on_hand (lot_key, location_id, quantity, uom, last_movement_at, snapshot_id) VALUES (7, 'WH-1', 15, 'CS', '2026-09-25 16:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_on_hand (lot_key, location_id, quantity, uom, last_movement_at, snapshot_id) VALUES (8, 'SITE-1', 5, 'CS', '2026-09-08 21:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_on_hand (lot_key, location_id, quantity, uom, last_movement_at, snapshot_id) VALUES (8, 'WH-1', 31, 'CS', '2026-09-20 14:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_on_hand (lot_key, location_id, quantity, uom, last_movement_at, snapshot_id) VALUES (9, 'SITE-1', 2, 'EA', '2026-09-12 12:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');

INSERT INTO public.lot_receipt (id, lot_key, receipt_id, received_at, tz_offset, from_location_id, to_location_id, gtin, lot, serial, quantity, uom, tlc_source_reference, ref_doc_type, ref_doc_number, snapshot_id) VALUES (1, 0, 'R1', '2026-09-01 13:00:00+00', '-05:00', 'SUP-MILL', 'SITE-1', '00614141000012', 'F1', NULL, 1000, 'KGM', '0614141000012', 'po', 'PO-1001', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_receipt (id, lot_key, receipt_id, received_at, tz_offset, from_location_id, to_location_id, gtin, lot, serial, quantity, uom, tlc_source_reference, ref_doc_type, ref_doc_number, snapshot_id) VALUES (2, 2, 'R2', '2026-09-01 14:30:00+00', '-05:00', 'SUP-SUGAR', 'SITE-1', '00614141000029', 'S1', NULL, 500, 'KGM', '0614141000029', 'po', 'PO-1002', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_receipt (id, lot_key, receipt_id, received_at, tz_offset, from_location_id, to_location_id, gtin, lot, serial, quantity, uom, tlc_source_reference, ref_doc_type, ref_doc_number, snapshot_id) VALUES (3, 1, 'R3', '2026-09-02 13:00:00+00', '-05:00', 'SUP-MILL', 'SITE-1', '00614141000012', 'F2', NULL, 800, 'KGM', '0614141000012', 'desadv', 'ASN-77', '755c9c4519715a5cc8b5a162d59d8e8a');

INSERT INTO public.lot_shipment (id, lot_key, shipment_id, shipped_at, tz_offset, from_location_id, to_location_id, gtin, lot, serial, sscc, quantity, uom, ref_doc_type, ref_doc_number, snapshot_id) VALUES (1, 7, 'SH1', '2026-09-10 12:00:00+00', '-05:00', 'WH-1', 'CUST-A', '00614141000043', 'C1', NULL, '306141410000000013', 50, 'CS', 'bol', 'BOL-501', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_shipment (id, lot_key, shipment_id, shipped_at, tz_offset, from_location_id, to_location_id, gtin, lot, serial, sscc, quantity, uom, ref_doc_type, ref_doc_number, snapshot_id) VALUES (2, 7, 'SH2', '2026-09-11 12:00:00+00', '-05:00', 'WH-1', 'CUST-B', '00614141000043', 'C1', NULL, '306141410000000020', 30, 'CS', 'bol', 'BOL-502', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_shipment (id, lot_key, shipment_id, shipped_at, tz_offset, from_location_id, to_location_id, gtin, lot, serial, sscc, quantity, uom, ref_doc_type, ref_doc_number, snapshot_id) VALUES (3, 8, 'SH2', '2026-09-11 12:00:00+00', '-05:00', 'WH-1', 'CUST-B', '00614141000043', 'C2', NULL, '306141410000000020', 40, 'CS', 'bol', 'BOL-502', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.lot_shipment (id, lot_key, shipment_id, shipped_at, tz_offset, from_location_id, to_location_id, gtin, lot, serial, sscc, quantity, uom, ref_doc_type, ref_doc_number, snapshot_id) VALUES (4, 9, 'SH3', '2026-09-12 12:00:00+00', '-05:00', 'SITE-1', 'CUST-B', '00614141000050', 'T1', 'T1-0001', NULL, 1, 'EA', 'inv', 'INV-9', '755c9c4519715a5cc8b5a162d59d8e8a');

INSERT INTO public.mock_recall (drill_id, started_at, finished_at, seconds_to_answer, gtin, lot, direction, run_by, snapshot_id, lots_reached, shipments, consignees, quantity_inflow, quantity_accounted, percent_accounted, status, document_number, pdf_path) VALUES ('DRL-20261207142717-455107', '2026-12-07 14:27:17.475232+00', '2026-12-07 14:27:17.601183+00', 0.125951, '00614141000036', 'D1', 'both', 'drill-officer', '755c9c4519715a5cc8b5a162d59d8e8a', 5, 3, 2, NULL, NULL, 100, 'pass', 'MRD-20261207142717-233ca4', '/tmp/e_fix/out/mock_recall_DRL-20261207142717-455107_MRD-20261207142717-233ca4.pdf');

INSERT INTO public.move_record (gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, move_id, moved_at, tz_offset, from_location_id, to_location_id, reason) VALUES ('00614141000043', 'C1', NULL, 90, 'CS', '51e9b5cfc8f322bcacbc3c7d99537867', 'M100614141000043C1SITE-1WH-1', 1, NULL, 'c72b311c530a79363cef78bebb4562f29eac05648f88a49c8573273ff6aa0435', 'moves.csv', 2, '889bf15b46914cb082340ef8f9ad1c5d', 'M1', '2026-09-07 21:00:00+00', '-05:00', 'SITE-1', 'WH-1', 'transfer');
INSERT INTO public.move_record (gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, move_id, moved_at, tz_offset, from_location_id, to_location_id, reason) VALUES ('00614141000043', 'C2', NULL, 70, 'CS', 'ebce2086ecd8ca52d5714575fd7585f1', 'M200614141000043C2SITE-1WH-1', 1, NULL, 'c72b311c530a79363cef78bebb4562f29eac05648f88a49c8573273ff6aa0435', 'moves.csv', 3, '889bf15b46914cb082340ef8f9ad1c5d', 'M2', '2026-09-08 21:00:00+00', '-05:00', 'SITE-1', 'WH-1', 'transfer');
INSERT INTO public.move_record (gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, move_id, moved_at, tz_offset, from_location_id, to_location_id, reason) VALUES ('00614141000043', 'C1', NULL, 2, 'CS', '2bb31dc670a741ee119c5112f5153cd5', 'M300614141000043C1SITE-1', 1, NULL, 'c72b311c530a79363cef78bebb4562f29eac05648f88a49c8573273ff6aa0435', 'moves.csv', 4, '889bf15b46914cb082340ef8f9ad1c5d', 'M3', '2026-09-08 22:00:00+00', '-05:00', 'SITE-1', NULL, 'scrap');
INSERT INTO public.move_record (gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, move_id, moved_at, tz_offset, from_location_id, to_location_id, reason) VALUES ('00614141000043', 'C2', NULL, 1, 'CS', '17c5f5448a8863ae933edbdec96604d3', 'M400614141000043C2WH-1', 1, NULL, 'c72b311c530a79363cef78bebb4562f29eac05648f88a49c8573273ff6aa0435', 'moves.csv', 5, '889bf15b46914cb082340ef8f9ad1c5d', 'M4', '2026-09-20 14:00:00+00', '-05:00', NULL, 'WH-1', 'adjustment');
INSERT INTO public.move_record (gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, move_id, moved_at, tz_offset, from_location_id, to_location_id, reason) VALUES ('00614141000043', 'C1', NULL, 5, 'CS', '50fe317ad9c4d67d5341d28dee5d9605', 'M500614141000043C1CUST-AWH-1', 1, NULL, 'c72b311c530a79363cef78bebb4562f29eac05648f88a49c8573273ff6aa0435', 'moves.csv', 6, '889bf15b46914cb082340ef8f9ad1c5d', 'M5', '2026-09-25 16:00:00+00', '-05:00', 'CUST-A', 'WH-1', 'return');

INSERT INTO public.product (gtin, name, brand, commodity, variety, pack_size, pack_uom, pack_style, tracking, shelf_life_days, uom, expiry_kind, record_hash) VALUES ('00614141000012', 'Wheat flour', 'Millers', 'wheat flour', 'type 55', 25, 'KGM', 'bag', 'lot', 180, 'KGM', 'use_by', 'aa4013e3cd54386825c891ff23b0110b');
INSERT INTO public.product (gtin, name, brand, commodity, variety, pack_size, pack_uom, pack_style, tracking, shelf_life_days, uom, expiry_kind, record_hash) VALUES ('00614141000029', 'Cane sugar', 'Sweetco', 'sugar', 'fine', 50, 'KGM', 'bag', 'lot', 720, 'KGM', 'use_by', '66acfe91dd50b649b10adf555fedf3a4');
INSERT INTO public.product (gtin, name, brand, commodity, variety, pack_size, pack_uom, pack_style, tracking, shelf_life_days, uom, expiry_kind, record_hash) VALUES ('00614141000036', 'Cookie dough', 'Lotline Bakery', 'dough', 'butter', NULL, NULL, 'tub', 'lot', 10, 'KGM', 'use_by', '750c7de35409d17319cc809ee5b2fa0d');
INSERT INTO public.product (gtin, name, brand, commodity, variety, pack_size, pack_uom, pack_style, tracking, shelf_life_days, uom, expiry_kind, record_hash) VALUES ('00614141000043', 'Butter cookies 12x200g', 'Lotline Bakery', 'cookies', 'butter', 2.4, 'KGM', 'case', 'lot', 120, 'CS', 'use_by', '2a19aa2dba8f6df424b6caee97141543');
INSERT INTO public.product (gtin, name, brand, commodity, variety, pack_size, pack_uom, pack_style, tracking, shelf_life_days, uom, expiry_kind, record_hash) VALUES ('00614141000050', 'Cookie gift tin', 'Lotline Bakery', 'cookies', 'assorted', 1, 'EA', 'tin', 'serial', 120, 'EA', 'use_by', 'c2e26335a9074f45e2ebb7663ceb8592');

INSERT INTO public.production_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, completed_at, tz_offset, location_id, production_date, expiry_date) VALUES ('prodorder', 'WO-1', '00614141000036', 'D1', NULL, 600, 'KGM', '2df7a9c3998bf08f7c13f073315e1455', 'P100614141000036D1', 1, NULL, 'c842c00842ed2b0842a1d84b3d96c0c8d8bbd62301e3c71c6de7f2437fae199f', 'production.csv', 2, '889bf15b46914cb082340ef8f9ad1c5d', 'P1', '2026-09-05 15:00:00+00', '-05:00', 'SITE-1', '2026-09-05', '2026-09-15');
INSERT INTO public.production_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, completed_at, tz_offset, location_id, production_date, expiry_date) VALUES ('prodorder', 'WO-2', '00614141000036', 'D2', NULL, 500, 'KGM', '0f3cd08ea434db163934d0cf56733497', 'P200614141000036D2', 1, NULL, 'c842c00842ed2b0842a1d84b3d96c0c8d8bbd62301e3c71c6de7f2437fae199f', 'production.csv', 3, '889bf15b46914cb082340ef8f9ad1c5d', 'P2', '2026-09-05 19:00:00+00', '-05:00', 'SITE-1', '2026-09-05', '2026-09-15');
INSERT INTO public.production_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, completed_at, tz_offset, location_id, production_date, expiry_date) VALUES ('prodorder', 'WO-3', '00614141000043', 'C1', NULL, 100, 'CS', 'f535b6324abce484803366d17e3244aa', 'P300614141000043C1', 1, NULL, 'c842c00842ed2b0842a1d84b3d96c0c8d8bbd62301e3c71c6de7f2437fae199f', 'production.csv', 4, '889bf15b46914cb082340ef8f9ad1c5d', 'P3', '2026-09-06 15:00:00+00', '-05:00', 'SITE-1', '2026-09-06', '2027-01-04');
INSERT INTO public.production_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, completed_at, tz_offset, location_id, production_date, expiry_date) VALUES ('prodorder', 'WO-4', '00614141000043', 'C2', NULL, 80, 'CS', 'da1d64d249f821ee8bd4a9ec65f3be7a', 'P400614141000043C2', 1, NULL, 'c842c00842ed2b0842a1d84b3d96c0c8d8bbd62301e3c71c6de7f2437fae199f', 'production.csv', 5, '889bf15b46914cb082340ef8f9ad1c5d', 'P4', '2026-09-06 20:00:00+00', '-05:00', 'SITE-1', '2026-09-06', '2027-01-04');
INSERT INTO public.production_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, completed_at, tz_offset, location_id, production_date, expiry_date) VALUES ('prodorder', 'WO-5', '00614141000050', 'T1', 'T1-0001', 1, 'EA', '62694e60aeeeeb764da51dc12b8867b6', 'P500614141000050T1T1-0001', 1, NULL, 'c842c00842ed2b0842a1d84b3d96c0c8d8bbd62301e3c71c6de7f2437fae199f', 'production.csv', 6, '889bf15b46914cb082340ef8f9ad1c5d', 'P5', '2026-09-07 15:00:00+00', '-05:00', 'SITE-1', '2026-09-07', '2027-01-04');
INSERT INTO public.production_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, completed_at, tz_offset, location_id, production_date, expiry_date) VALUES ('prodorder', 'WO-5', '00614141000050', 'T1', 'T1-0002', 1, 'EA', '4817656b405c265c8262164d1f341f60', 'P500614141000050T1T1-0002', 1, NULL, 'c842c00842ed2b0842a1d84b3d96c0c8d8bbd62301e3c71c6de7f2437fae199f', 'production.csv', 7, '889bf15b46914cb082340ef8f9ad1c5d', 'P5', '2026-09-07 15:00:00+00', '-05:00', 'SITE-1', '2026-09-07', '2027-01-04');
INSERT INTO public.production_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, completed_at, tz_offset, location_id, production_date, expiry_date) VALUES ('prodorder', 'WO-5', '00614141000050', 'T1', 'T1-0003', 1, 'EA', '429dfa753b2fe2b56c7006e328daf70b', 'P500614141000050T1T1-0003', 1, NULL, 'c842c00842ed2b0842a1d84b3d96c0c8d8bbd62301e3c71c6de7f2437fae199f', 'production.csv', 8, '889bf15b46914cb082340ef8f9ad1c5d', 'P5', '2026-09-07 15:00:00+00', '-05:00', 'SITE-1', '2026-09-07', '2027-01-04');
INSERT INTO public.production_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, completed_at, tz_offset, location_id, production_date, expiry_date) VALUES ('prodorder', 'WO-6', '00614141000036', 'D2', NULL, 5, 'KGM', 'd77648a5f8c1a8133e7d4adad8d6033a', 'P600614141000036D2', 1, NULL, 'c842c00842ed2b0842a1d84b3d96c0c8d8bbd62301e3c71c6de7f2437fae199f', 'production.csv', 9, '889bf15b46914cb082340ef8f9ad1c5d', 'P6', '2026-09-08 14:00:00+00', '-05:00', 'SITE-1', '2026-09-08', '2026-09-15');
INSERT INTO public.production_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, completed_at, tz_offset, location_id, production_date, expiry_date) VALUES ('prodorder', 'WO-7', '00614141000036', 'D3', NULL, 70, 'KGM', 'ef32422a48ba0d2ccae4d3a4be572261', 'P700614141000036D3', 1, NULL, 'c842c00842ed2b0842a1d84b3d96c0c8d8bbd62301e3c71c6de7f2437fae199f', 'production.csv', 10, '889bf15b46914cb082340ef8f9ad1c5d', 'P7', '2026-09-08 17:00:00+00', '-05:00', 'SITE-1', '2026-09-08', '2026-09-18');
INSERT INTO public.production_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, production_id, completed_at, tz_offset, location_id, production_date, expiry_date) VALUES ('prodorder', 'WO-7', '00614141000036', 'D4', NULL, 30, 'KGM', 'ab40ed25228d44cefc66516833687465', 'P700614141000036D4', 1, NULL, 'c842c00842ed2b0842a1d84b3d96c0c8d8bbd62301e3c71c6de7f2437fae199f', 'production.csv', 11, '889bf15b46914cb082340ef8f9ad1c5d', 'P7', '2026-09-08 17:00:00+00', '-05:00', 'SITE-1', '2026-09-08', '2026-09-18');

INSERT INTO public.receipt_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, receipt_id, received_at, tz_offset, from_location_id, to_location_id, production_date, expiry_date, tlc_source_reference) VALUES ('po', 'PO-1001', '00614141000012', 'F1', NULL, 1000, 'KGM', 'cdc447a27008d592a58b50818678174d', 'R100614141000012F1', 1, NULL, '6404837095c1754faac37e662ce488819f27192a1e50b9e0f7776ab6ae4b75ef', 'receipts.csv', 2, '889bf15b46914cb082340ef8f9ad1c5d', 'R1', '2026-09-01 13:00:00+00', '-05:00', 'SUP-MILL', 'SITE-1', '2026-08-20', '2027-02-16', '0614141000012');
INSERT INTO public.receipt_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, receipt_id, received_at, tz_offset, from_location_id, to_location_id, production_date, expiry_date, tlc_source_reference) VALUES ('po', 'PO-1002', '00614141000029', 'S1', NULL, 500, 'KGM', '3dd7b07abe405ead363b6ac95b074dd3', 'R200614141000029S1', 1, NULL, '6404837095c1754faac37e662ce488819f27192a1e50b9e0f7776ab6ae4b75ef', 'receipts.csv', 3, '889bf15b46914cb082340ef8f9ad1c5d', 'R2', '2026-09-01 14:30:00+00', '-05:00', 'SUP-SUGAR', 'SITE-1', '2026-07-01', '2028-06-20', '0614141000029');
INSERT INTO public.receipt_record (ref_doc_type, ref_doc_number, gtin, lot, serial, quantity, uom, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, receipt_id, received_at, tz_offset, from_location_id, to_location_id, production_date, expiry_date, tlc_source_reference) VALUES ('desadv', 'ASN-77', '00614141000012', 'F2', NULL, 800, 'KGM', 'ffddd2346f91729a9797d932125874e4', 'R300614141000012F2', 1, NULL, '6404837095c1754faac37e662ce488819f27192a1e50b9e0f7776ab6ae4b75ef', 'receipts.csv', 4, '889bf15b46914cb082340ef8f9ad1c5d', 'R3', '2026-09-02 13:00:00+00', '-05:00', 'SUP-MILL', 'SITE-1', '2026-08-25', '2027-02-21', '0614141000012');

INSERT INTO public.serial (gtin, serial, lot_key, lot, origin, origin_id, created_at, snapshot_id) VALUES ('00614141000050', 'T1-0001', 9, 'T1', 'produced', 'P5', '2026-09-07 15:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.serial (gtin, serial, lot_key, lot, origin, origin_id, created_at, snapshot_id) VALUES ('00614141000050', 'T1-0002', 9, 'T1', 'produced', 'P5', '2026-09-07 15:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.serial (gtin, serial, lot_key, lot, origin, origin_id, created_at, snapshot_id) VALUES ('00614141000050', 'T1-0003', 9, 'T1', 'produced', 'P5', '2026-09-07 15:00:00+00', '755c9c4519715a5cc8b5a162d59d8e8a');

INSERT INTO public.shipment_record (ref_doc_type, ref_doc_number, serial, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, shipment_id, shipped_at, tz_offset, from_location_id, to_location_id, sscc, gtin, lot, quantity, uom) VALUES ('bol', 'BOL-501', NULL, '9d6ae3c41926ba779838dda0c889ca1c', 'SH100614141000043C1306141410000000013', 1, NULL, 'cc479fad0b09a8044f614c86c5a43d9d89036dfc183d741f93b909842924f25b', 'shipments.csv', 2, '889bf15b46914cb082340ef8f9ad1c5d', 'SH1', '2026-09-10 12:00:00+00', '-05:00', 'WH-1', 'CUST-A', '306141410000000013', '00614141000043', 'C1', 50, 'CS');
INSERT INTO public.shipment_record (ref_doc_type, ref_doc_number, serial, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, shipment_id, shipped_at, tz_offset, from_location_id, to_location_id, sscc, gtin, lot, quantity, uom) VALUES ('bol', 'BOL-502', NULL, '2a9d4354c66b7ffef368b9ccd5b3768c', 'SH200614141000043C1306141410000000020', 1, NULL, 'cc479fad0b09a8044f614c86c5a43d9d89036dfc183d741f93b909842924f25b', 'shipments.csv', 3, '889bf15b46914cb082340ef8f9ad1c5d', 'SH2', '2026-09-11 12:00:00+00', '-05:00', 'WH-1', 'CUST-B', '306141410000000020', '00614141000043', 'C1', 30, 'CS');
INSERT INTO public.shipment_record (ref_doc_type, ref_doc_number, serial, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, shipment_id, shipped_at, tz_offset, from_location_id, to_location_id, sscc, gtin, lot, quantity, uom) VALUES ('bol', 'BOL-502', NULL, '2dca4a6e521d60ebf9a5fc9c5e0cc7b6', 'SH200614141000043C2306141410000000020', 1, NULL, 'cc479fad0b09a8044f614c86c5a43d9d89036dfc183d741f93b909842924f25b', 'shipments.csv', 4, '889bf15b46914cb082340ef8f9ad1c5d', 'SH2', '2026-09-11 12:00:00+00', '-05:00', 'WH-1', 'CUST-B', '306141410000000020', '00614141000043', 'C2', 40, 'CS');
INSERT INTO public.shipment_record (ref_doc_type, ref_doc_number, serial, record_hash, line_key, version, correction_reason, source_sha256, source_file, source_row, load_id, shipment_id, shipped_at, tz_offset, from_location_id, to_location_id, sscc, gtin, lot, quantity, uom) VALUES ('inv', 'INV-9', 'T1-0001', '2aa4132d33b1070ef527491e2f361842', 'SH300614141000050T1T1-0001', 1, NULL, 'cc479fad0b09a8044f614c86c5a43d9d89036dfc183d741f93b909842924f25b', 'shipments.csv', 5, '889bf15b46914cb082340ef8f9ad1c5d', 'SH3', '2026-09-12 12:00:00+00', '-05:00', 'SITE-1', 'CUST-B', NULL, '00614141000050', 'T1', 1, 'EA');

INSERT INTO public.snapshot (snapshot_id, created_at, load_id, input_sha256, record_count) VALUES ('755c9c4519715a5cc8b5a162d59d8e8a', '2026-12-07 14:26:44.745565+00', '889bf15b46914cb082340ef8f9ad1c5d', '["5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6", "530c5f77ee0f49ae9d61791a510ea8e73db8907293cafa927eae70e3d1a1c2b5", "6404837095c1754faac37e662ce488819f27192a1e50b9e0f7776ab6ae4b75ef", "c72b311c530a79363cef78bebb4562f29eac05648f88a49c8573273ff6aa0435", "c842c00842ed2b0842a1d84b3d96c0c8d8bbd62301e3c71c6de7f2437fae199f", "cc479fad0b09a8044f614c86c5a43d9d89036dfc183d741f93b909842924f25b", "e8d303203ab6be02d1e00b08c0e356f3841a50f1fe34348b11c0436197d8b66e"]', 33);

INSERT INTO public.source_file (sha256, file_name, record_type, load_id, loaded_at, rows_read, rows_loaded, rows_unchanged, rows_rejected) VALUES ('530c5f77ee0f49ae9d61791a510ea8e73db8907293cafa927eae70e3d1a1c2b5', 'products.csv', 'products', '889bf15b46914cb082340ef8f9ad1c5d', '2026-12-07 14:26:44.745565+00', 5, 5, 0, 0);
INSERT INTO public.source_file (sha256, file_name, record_type, load_id, loaded_at, rows_read, rows_loaded, rows_unchanged, rows_rejected) VALUES ('e8d303203ab6be02d1e00b08c0e356f3841a50f1fe34348b11c0436197d8b66e', 'locations.csv', 'locations', '889bf15b46914cb082340ef8f9ad1c5d', '2026-12-07 14:26:44.745565+00', 6, 6, 0, 0);
INSERT INTO public.source_file (sha256, file_name, record_type, load_id, loaded_at, rows_read, rows_loaded, rows_unchanged, rows_rejected) VALUES ('6404837095c1754faac37e662ce488819f27192a1e50b9e0f7776ab6ae4b75ef', 'receipts.csv', 'receipts', '889bf15b46914cb082340ef8f9ad1c5d', '2026-12-07 14:26:44.745565+00', 3, 3, 0, 0);
INSERT INTO public.source_file (sha256, file_name, record_type, load_id, loaded_at, rows_read, rows_loaded, rows_unchanged, rows_rejected) VALUES ('c842c00842ed2b0842a1d84b3d96c0c8d8bbd62301e3c71c6de7f2437fae199f', 'production.csv', 'production', '889bf15b46914cb082340ef8f9ad1c5d', '2026-12-07 14:26:44.745565+00', 10, 10, 0, 0);
INSERT INTO public.source_file (sha256, file_name, record_type, load_id, loaded_at, rows_read, rows_loaded, rows_unchanged, rows_rejected) VALUES ('5105bdb4c65ab09f18dc7f412184a4ce63877a8f400c1bcb685d497875aeddf6', 'consumption.csv', 'consumption', '889bf15b46914cb082340ef8f9ad1c5d', '2026-12-07 14:26:44.745565+00', 11, 11, 0, 0);
INSERT INTO public.source_file (sha256, file_name, record_type, load_id, loaded_at, rows_read, rows_loaded, rows_unchanged, rows_rejected) VALUES ('c72b311c530a79363cef78bebb4562f29eac05648f88a49c8573273ff6aa0435', 'moves.csv', 'moves', '889bf15b46914cb082340ef8f9ad1c5d', '2026-12-07 14:26:44.745565+00', 5, 5, 0, 0);
INSERT INTO public.source_file (sha256, file_name, record_type, load_id, loaded_at, rows_read, rows_loaded, rows_unchanged, rows_rejected) VALUES ('cc479fad0b09a8044f614c86c5a43d9d89036dfc183d741f93b909842924f25b', 'shipments.csv', 'shipments', '889bf15b46914cb082340ef8f9ad1c5d', '2026-12-07 14:26:44.745565+00', 4, 4, 0, 0);

INSERT INTO public.trace_exception (id, "check", severity, gtin, lot, serial, reference, detail, snapshot_id) VALUES (1, 'output_outlives_input', 'warning', '00614141000043', 'C1', NULL, '00614141000036/D1', 'expiry 2027-01-04 is later than input lot D1 expiry 2026-09-15', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.trace_exception (id, "check", severity, gtin, lot, serial, reference, detail, snapshot_id) VALUES (2, 'output_outlives_input', 'warning', '00614141000043', 'C2', NULL, '00614141000036/D2', 'expiry 2027-01-04 is later than input lot D2 expiry 2026-09-15', '755c9c4519715a5cc8b5a162d59d8e8a');
INSERT INTO public.trace_exception (id, "check", severity, gtin, lot, serial, reference, detail, snapshot_id) VALUES (3, 'output_outlives_input', 'warning', '00614141000050', 'T1', NULL, '00614141000036/D1', 'expiry 2027-01-04 is later than input lot D1 expiry 2026-09-15', '755c9c4519715a5cc8b5a162d59d8e8a');

SELECT pg_catalog.setval('public.lot_completeness_lot_key_seq', 1, false);

SELECT pg_catalog.setval('public.lot_edge_id_seq', 12, true);

SELECT pg_catalog.setval('public.lot_lot_key_seq', 1, false);

SELECT pg_catalog.setval('public.lot_mass_balance_lot_key_seq', 1, false);

SELECT pg_catalog.setval('public.lot_receipt_id_seq', 3, true);

SELECT pg_catalog.setval('public.lot_shipment_id_seq', 4, true);

SELECT pg_catalog.setval('public.lot_status_id_seq', 1, false);

SELECT pg_catalog.setval('public.record_finding_id_seq', 1, false);

SELECT pg_catalog.setval('public.rejected_record_id_seq', 1, false);

SELECT pg_catalog.setval('public.trace_exception_id_seq', 3, true);

ALTER TABLE ONLY public.consumption_record
    ADD CONSTRAINT consumption_record_pkey PRIMARY KEY (record_hash);

ALTER TABLE ONLY public.issued_document
    ADD CONSTRAINT issued_document_pkey PRIMARY KEY (document_number);

ALTER TABLE ONLY public.load_lock
    ADD CONSTRAINT load_lock_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.location
    ADD CONSTRAINT location_pkey PRIMARY KEY (location_id);

ALTER TABLE ONLY public.lot_closure
    ADD CONSTRAINT lot_closure_pkey PRIMARY KEY (ancestor_key, descendant_key);

ALTER TABLE ONLY public.lot_completeness
    ADD CONSTRAINT lot_completeness_pkey PRIMARY KEY (lot_key);

ALTER TABLE ONLY public.lot_edge
    ADD CONSTRAINT lot_edge_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.lot_mass_balance
    ADD CONSTRAINT lot_mass_balance_pkey PRIMARY KEY (lot_key);

ALTER TABLE ONLY public.lot_on_hand
    ADD CONSTRAINT lot_on_hand_pkey PRIMARY KEY (lot_key, location_id);

ALTER TABLE ONLY public.lot
    ADD CONSTRAINT lot_pkey PRIMARY KEY (lot_key);

ALTER TABLE ONLY public.lot_receipt
    ADD CONSTRAINT lot_receipt_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.lot_shipment
    ADD CONSTRAINT lot_shipment_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.lot_status
    ADD CONSTRAINT lot_status_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.mock_recall
    ADD CONSTRAINT mock_recall_pkey PRIMARY KEY (drill_id);

ALTER TABLE ONLY public.move_record
    ADD CONSTRAINT move_record_pkey PRIMARY KEY (record_hash);

ALTER TABLE ONLY public.packing_record
    ADD CONSTRAINT packing_record_pkey PRIMARY KEY (record_hash);

ALTER TABLE ONLY public.product
    ADD CONSTRAINT product_pkey PRIMARY KEY (gtin);

ALTER TABLE ONLY public.production_record
    ADD CONSTRAINT production_record_pkey PRIMARY KEY (record_hash);

ALTER TABLE ONLY public.receipt_record
    ADD CONSTRAINT receipt_record_pkey PRIMARY KEY (record_hash);

ALTER TABLE ONLY public.record_finding
    ADD CONSTRAINT record_finding_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.record_history
    ADD CONSTRAINT record_history_pkey PRIMARY KEY (record_type, line_key, version);

ALTER TABLE ONLY public.rejected_record
    ADD CONSTRAINT rejected_record_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.serial
    ADD CONSTRAINT serial_pkey PRIMARY KEY (gtin, serial);

ALTER TABLE ONLY public.shipment_record
    ADD CONSTRAINT shipment_record_pkey PRIMARY KEY (record_hash);

ALTER TABLE ONLY public.snapshot
    ADD CONSTRAINT snapshot_pkey PRIMARY KEY (snapshot_id);

ALTER TABLE ONLY public.source_file
    ADD CONSTRAINT source_file_pkey PRIMARY KEY (sha256);

ALTER TABLE ONLY public.status_record
    ADD CONSTRAINT status_record_pkey PRIMARY KEY (record_hash);

ALTER TABLE ONLY public.trace_exception
    ADD CONSTRAINT trace_exception_pkey PRIMARY KEY (id);

CREATE INDEX ix_consumption_record_gtin ON public.consumption_record USING btree (gtin);

CREATE UNIQUE INDEX ix_consumption_record_line_key ON public.consumption_record USING btree (line_key);

CREATE INDEX ix_consumption_record_load_id ON public.consumption_record USING btree (load_id);

CREATE INDEX ix_consumption_record_lot ON public.consumption_record USING btree (lot);

CREATE INDEX ix_consumption_record_production_id ON public.consumption_record USING btree (production_id);

CREATE INDEX ix_consumption_record_source_sha256 ON public.consumption_record USING btree (source_sha256);

CREATE INDEX ix_issued_document_generated_at ON public.issued_document USING btree (generated_at);

CREATE INDEX ix_issued_document_kind ON public.issued_document USING btree (kind);

CREATE INDEX ix_lot_closure_descendant_key ON public.lot_closure USING btree (descendant_key);

CREATE INDEX ix_lot_edge_child_key ON public.lot_edge USING btree (child_key);

CREATE INDEX ix_lot_edge_parent_key ON public.lot_edge USING btree (parent_key);

CREATE INDEX ix_lot_gtin ON public.lot USING btree (gtin);

CREATE INDEX ix_lot_lot ON public.lot USING btree (lot);

CREATE INDEX ix_lot_mass_balance_status ON public.lot_mass_balance USING btree (status);

CREATE INDEX ix_lot_receipt_from_location_id ON public.lot_receipt USING btree (from_location_id);

CREATE INDEX ix_lot_receipt_lot_key ON public.lot_receipt USING btree (lot_key);

CREATE INDEX ix_lot_receipt_receipt_id ON public.lot_receipt USING btree (receipt_id);

CREATE INDEX ix_lot_shipment_lot_key ON public.lot_shipment USING btree (lot_key);

CREATE INDEX ix_lot_shipment_shipment_id ON public.lot_shipment USING btree (shipment_id);

CREATE INDEX ix_lot_shipment_to_location_id ON public.lot_shipment USING btree (to_location_id);

CREATE INDEX ix_lot_status_gtin ON public.lot_status USING btree (gtin);

CREATE INDEX ix_lot_status_lot ON public.lot_status USING btree (lot);

CREATE INDEX ix_mock_recall_gtin ON public.mock_recall USING btree (gtin);

CREATE INDEX ix_mock_recall_started_at ON public.mock_recall USING btree (started_at);

CREATE INDEX ix_move_record_gtin ON public.move_record USING btree (gtin);

CREATE UNIQUE INDEX ix_move_record_line_key ON public.move_record USING btree (line_key);

CREATE INDEX ix_move_record_load_id ON public.move_record USING btree (load_id);

CREATE INDEX ix_move_record_lot ON public.move_record USING btree (lot);

CREATE INDEX ix_move_record_move_id ON public.move_record USING btree (move_id);

CREATE INDEX ix_move_record_source_sha256 ON public.move_record USING btree (source_sha256);

CREATE INDEX ix_packing_record_child_sscc ON public.packing_record USING btree (child_sscc);

CREATE INDEX ix_packing_record_gtin ON public.packing_record USING btree (gtin);

CREATE UNIQUE INDEX ix_packing_record_line_key ON public.packing_record USING btree (line_key);

CREATE INDEX ix_packing_record_load_id ON public.packing_record USING btree (load_id);

CREATE INDEX ix_packing_record_lot ON public.packing_record USING btree (lot);

CREATE INDEX ix_packing_record_packing_id ON public.packing_record USING btree (packing_id);

CREATE INDEX ix_packing_record_parent_sscc ON public.packing_record USING btree (parent_sscc);

CREATE INDEX ix_packing_record_source_sha256 ON public.packing_record USING btree (source_sha256);

CREATE INDEX ix_production_record_gtin ON public.production_record USING btree (gtin);

CREATE UNIQUE INDEX ix_production_record_line_key ON public.production_record USING btree (line_key);

CREATE INDEX ix_production_record_load_id ON public.production_record USING btree (load_id);

CREATE INDEX ix_production_record_lot ON public.production_record USING btree (lot);

CREATE INDEX ix_production_record_production_id ON public.production_record USING btree (production_id);

CREATE INDEX ix_production_record_source_sha256 ON public.production_record USING btree (source_sha256);

CREATE INDEX ix_receipt_record_gtin ON public.receipt_record USING btree (gtin);

CREATE UNIQUE INDEX ix_receipt_record_line_key ON public.receipt_record USING btree (line_key);

CREATE INDEX ix_receipt_record_load_id ON public.receipt_record USING btree (load_id);

CREATE INDEX ix_receipt_record_lot ON public.receipt_record USING btree (lot);

CREATE INDEX ix_receipt_record_receipt_id ON public.receipt_record USING btree (receipt_id);

CREATE INDEX ix_receipt_record_source_sha256 ON public.receipt_record USING btree (source_sha256);

CREATE INDEX ix_record_finding_gtin ON public.record_finding USING btree (gtin);

CREATE INDEX ix_record_finding_load_id ON public.record_finding USING btree (load_id);

CREATE INDEX ix_record_finding_lot ON public.record_finding USING btree (lot);

CREATE INDEX ix_record_finding_record_hash ON public.record_finding USING btree (record_hash);

CREATE INDEX ix_record_finding_source_sha256 ON public.record_finding USING btree (source_sha256);

CREATE INDEX ix_record_history_changed_by_load ON public.record_history USING btree (changed_by_load);

CREATE INDEX ix_record_history_gtin ON public.record_history USING btree (gtin);

CREATE INDEX ix_record_history_lot ON public.record_history USING btree (lot);

CREATE INDEX ix_rejected_record_load_id ON public.rejected_record USING btree (load_id);

CREATE INDEX ix_rejected_record_source_sha256 ON public.rejected_record USING btree (source_sha256);

CREATE INDEX ix_serial_lot_key ON public.serial USING btree (lot_key);

CREATE INDEX ix_shipment_record_gtin ON public.shipment_record USING btree (gtin);

CREATE UNIQUE INDEX ix_shipment_record_line_key ON public.shipment_record USING btree (line_key);

CREATE INDEX ix_shipment_record_load_id ON public.shipment_record USING btree (load_id);

CREATE INDEX ix_shipment_record_lot ON public.shipment_record USING btree (lot);

CREATE INDEX ix_shipment_record_shipment_id ON public.shipment_record USING btree (shipment_id);

CREATE INDEX ix_shipment_record_source_sha256 ON public.shipment_record USING btree (source_sha256);

CREATE INDEX ix_shipment_record_sscc ON public.shipment_record USING btree (sscc);

CREATE INDEX ix_source_file_load_id ON public.source_file USING btree (load_id);

CREATE INDEX ix_status_record_gtin ON public.status_record USING btree (gtin);

CREATE UNIQUE INDEX ix_status_record_line_key ON public.status_record USING btree (line_key);

CREATE INDEX ix_status_record_load_id ON public.status_record USING btree (load_id);

CREATE INDEX ix_status_record_lot ON public.status_record USING btree (lot);

CREATE INDEX ix_status_record_source_sha256 ON public.status_record USING btree (source_sha256);

CREATE INDEX ix_status_record_status_id ON public.status_record USING btree (status_id);

CREATE INDEX ix_trace_exception_check ON public.trace_exception USING btree ("check");

CREATE INDEX ix_trace_exception_gtin ON public.trace_exception USING btree (gtin);

CREATE INDEX ix_trace_exception_lot ON public.trace_exception USING btree (lot);


-- A sql payload: split into statements, then each statement is rendered.
create table if not exists docs_sales (day date, region text, amount numeric);
delete from docs_sales where day = '{{ vars.day }}';
insert into docs_sales values ('{{ vars.day }}', 'north', 10.5), ('{{ vars.day }}', 'south', 7);
select region, amount from docs_sales where day = '{{ vars.day }}' order by region;
